"""One viewer's outgoing messages (M4): a slow viewer drops sharing and video frames and never
holds back the sender or the other viewers.

Each connection has its own queue and its own writer task; the sender only puts into queues,
which never waits. Frames a later frame replaces (share, video) are dropped once
``lossy_limit`` of them wait. Chat, notices and file chunks are never dropped: they wait in
order, and a viewer so far behind that ``reliable_limit_bytes`` of them wait is disconnected
rather than allowed to grow without end (it can reconnect).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from uuid import UUID

Message = str | bytes


@dataclass(frozen=True, slots=True)
class Outgoing:
    message: Message
    lossy: bool
    activity_id: UUID | None


class TooFarBehind(Exception):
    """The viewer's ordered backlog passed its limit; the connection is to be closed."""


class Closing(Exception):
    """What is queued is sent; the connection is to be closed with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class ViewerQueue:
    def __init__(self, *, lossy_limit: int = 8, reliable_limit_bytes: int = 16 * 2**20) -> None:
        self._items: deque[Outgoing] = deque()
        self._ready = asyncio.Event()
        self.lossy_limit, self.reliable_limit_bytes = lossy_limit, reliable_limit_bytes
        self.lossy_waiting = 0
        self.reliable_bytes = 0
        self.sent = 0
        self.dropped = 0
        self.closing: Closing | None = None

    def put(
        self, message: Message, *, lossy: bool = False, activity_id: UUID | None = None
    ) -> None:
        """Queue a message; never waits. Raises TooFarBehind when the ordered backlog is full."""
        if self.closing is not None:
            return
        if lossy:
            if self.lossy_waiting >= self.lossy_limit:
                self.dropped += 1
                return
            self.lossy_waiting += 1
        else:
            self.reliable_bytes += len(message)
            if self.reliable_bytes > self.reliable_limit_bytes:
                raise TooFarBehind(f"{self.reliable_bytes} bytes of chat and files waiting")
        self._items.append(Outgoing(message, lossy, activity_id))
        self._ready.set()

    def purge(self, activity_id: UUID) -> int:
        """Forget what waits of an activity that ended: it is not delivered after its end."""
        kept = [item for item in self._items if item.activity_id != activity_id]
        purged = len(self._items) - len(kept)
        if purged:
            for item in self._items:
                if item.activity_id == activity_id:
                    self._forget(item)
            self._items = deque(kept)
        return purged

    def close_after(self, code: int, reason: str) -> None:
        """Send what waits, then close; nothing more is queued."""
        if self.closing is None:
            self.closing = Closing(code, reason)
            self._ready.set()

    def abort(self, code: int, reason: str) -> None:
        """Close now: what waits is not sent."""
        self._items.clear()
        self.lossy_waiting = self.reliable_bytes = 0
        self.closing = None
        self.close_after(code, reason)

    async def get(self) -> Message:
        """The next message to send; Closing once the queue is empty and closing."""
        while not self._items:
            if self.closing is not None:
                raise self.closing
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        self._forget(item)
        self.sent += 1
        return item.message

    def _forget(self, item: Outgoing) -> None:
        if item.lossy:
            self.lossy_waiting -= 1
        else:
            self.reliable_bytes -= len(item.message)

    def __len__(self) -> int:
        return len(self._items)
