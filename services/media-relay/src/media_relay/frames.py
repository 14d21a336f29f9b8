"""What travels on a relay connection.

Text messages are JSON: chat, the client's requests (start or stop an activity) and the
relay's notices (who joined, what ended and why, errors). Binary messages are frames of an
activity, opaque to the relay except for a small header::

    u16 big-endian header length | header (JSON, UTF-8) | payload

The header names the frame's ``kind`` (``share``, ``video`` or ``file``) and its
``activity_id``; a file chunk also carries ``name``, ``offset`` and ``sha256`` (hex of the
payload), which the relay checks. The relay stamps ``from`` (the sender) and ``seq`` into the
header it forwards, once per frame, whatever the number of viewers.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from support_contracts.vocabulary import ActivityKind

HEADER_LENGTH = struct.Struct(">H")
MAX_HEADER = 4096


class FrameKind(StrEnum):
    SHARE = "share"
    VIDEO = "video"
    FILE = "file"

    @property
    def lossy(self) -> bool:
        """Frames a slow viewer may miss: a later picture replaces them (M4). File chunks are
        ordered and complete, like chat."""
        return self is not FrameKind.FILE


ACTIVITIES: dict[FrameKind, frozenset[ActivityKind]] = {
    FrameKind.SHARE: frozenset({ActivityKind.DESKTOP_SHARING, ActivityKind.APPLICATION_SHARING}),
    FrameKind.VIDEO: frozenset({ActivityKind.VIDEO}),
    FrameKind.FILE: frozenset({ActivityKind.FILE_TRANSFER}),
}


class BadFrame(ValueError):
    """A frame the relay cannot read; the sender gets an error notice, nobody else anything."""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: FrameKind
    activity_id: UUID
    header: dict[str, Any]
    payload: memoryview


def parse(message: bytes) -> Frame:
    if len(message) < HEADER_LENGTH.size:
        raise BadFrame("a frame starts with the length of its header (2 bytes)")
    (length,) = HEADER_LENGTH.unpack_from(message)
    end = HEADER_LENGTH.size + length
    if length > MAX_HEADER or end > len(message):
        raise BadFrame(f"a frame's header is at most {MAX_HEADER} bytes and within the frame")
    try:
        header = json.loads(message[HEADER_LENGTH.size : end])
        kind = FrameKind(header["kind"])
        activity_id = UUID(str(header["activity_id"]))
    except (ValueError, KeyError, TypeError) as error:
        raise BadFrame(f"a frame's header needs a known kind and an activity_id: {error}") from None
    payload = memoryview(message)[end:]
    if kind is FrameKind.FILE:
        _check_chunk(header, payload)
    return Frame(kind, activity_id, header, payload)


def _check_chunk(header: dict[str, Any], payload: memoryview) -> None:
    name, offset, digest = header.get("name"), header.get("offset"), header.get("sha256")
    if not isinstance(name, str) or not name or not isinstance(offset, int) or offset < 0:
        raise BadFrame("a file chunk needs a name and a non-negative offset")
    if digest != hashlib.sha256(payload).hexdigest():
        raise BadFrame(f"file chunk {name}@{offset}: the payload does not match its sha256")


def encode(header: dict[str, Any], payload: bytes | memoryview) -> bytes:
    raw = json.dumps(header, separators=(",", ":")).encode()
    return b"".join((HEADER_LENGTH.pack(len(raw)), raw, payload))


def file_chunk(activity_id: UUID, name: str, offset: int, payload: bytes) -> bytes:
    """A client's file chunk, as the relay expects it."""
    digest = hashlib.sha256(payload).hexdigest()
    header = {"kind": "file", "activity_id": str(activity_id), "name": name, "offset": offset}
    return encode({**header, "sha256": digest}, payload)


def forwarded(frame: Frame, sender: str, seq: int) -> bytes:
    return encode({**frame.header, "from": sender, "seq": seq}, frame.payload)


def notice(message_type: str, /, **fields: Any) -> str:
    """A text message from the relay."""
    return json.dumps({"type": message_type, **fields}, separators=(",", ":"), default=str)
