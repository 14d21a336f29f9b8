"""Running a service process: its parts stopped in the right order, and the process kept
until SIGTERM or SIGINT (Kubernetes' way of asking a pod to stop)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import uvloop

from service_runtime.logs import configure_json_logs

__all__ = ["Running", "configure_json_logs", "serve"]


class Door(Protocol):
    """Where work comes in: a command server, an event consumer."""

    async def stop(self) -> None: ...


class Resource(Protocol):
    """What the work uses: a broker connection, a database pool."""

    async def close(self) -> None: ...


@dataclass
class Running:
    doors: list[Door]
    resources: list[Resource]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stopped: bool = False

    async def stop(self) -> None:
        """No new work first (what is unacknowledged goes back to its queue), then the
        background work, then what it used. Stopping again does nothing."""
        if self.stopped:
            return
        self.stopped = True
        for door in self.doors:
            await door.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for resource in self.resources:
            await resource.close()


class Service(Protocol):
    async def stop(self) -> None: ...


def serve(start: Callable[[], Awaitable[Service]]) -> None:
    """A service's ``__main__``: JSON logs, start, run until SIGTERM or SIGINT, stop."""

    async def main() -> None:
        configure_json_logs()
        service = await start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        await service.stop()

    uvloop.run(main())
