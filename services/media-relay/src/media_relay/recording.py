"""Recording (M2): while a recording activity runs, the session's chat and frames are written to
storage, and a manifest when it ends.

They are written to a directory, ``<root>/<session id>/<recording id>/``, which holds
``stream.bin`` and, once it ended, ``manifest.json``; they stay there, or go to an S3 bucket
where one is configured. Each record of ``stream.bin`` is::

    u8 type (0 text, 1 binary) | f64 seconds since the epoch | u32 length | the message

as the relay forwarded it (a frame keeps its header, with sender and sequence number). The
recording id follows from the activity's, so a relay restarted during a recording goes on
appending to the same file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from uuid import UUID, uuid5

import boto3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

RECORD = struct.Struct(">BdI")
TEXT, BINARY = 0, 1


def recording_id_of(activity_id: UUID) -> UUID:
    return uuid5(activity_id, "recording")


@dataclass(frozen=True)
class Record:
    at: float
    message: str | bytes


class Recorder:
    def __init__(self, directory: Path, session_id: UUID, activity_id: UUID) -> None:
        self.session_id, self.activity_id = session_id, activity_id
        self.recording_id = recording_id_of(activity_id)
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.started_at = time.time()
        self._file: BinaryIO = (directory / "stream.bin").open("ab", buffering=0)

    def write(self, message: str | bytes) -> None:
        """One record, one write: with no buffer in the process, a relay that stops or dies
        loses at most the record being written."""
        kind, raw = (TEXT, message.encode()) if isinstance(message, str) else (BINARY, message)
        self._file.write(b"".join((RECORD.pack(kind, time.time(), len(raw)), raw)))

    def finish(self, reason: str) -> dict[str, Any]:
        """Close the stream and write the manifest (atomically); the manifest."""
        self._file.close()
        stream = self.directory / "stream.bin"
        content = stream.read_bytes()  # counted from the file: a restart may have come between
        records = read_records(content)
        manifest = {
            "recording_id": str(self.recording_id),
            "session_id": str(self.session_id),
            "activity_id": str(self.activity_id),
            "started_at": records[0].at if records else self.started_at,
            "ended_at": time.time(),
            "end_reason": reason,
            "frames": len(records),
            "bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "format": "records of u8 type (0 text, 1 binary), f64 time, u32 length, message",
            "files": ["stream.bin"],
        }
        partial = self.directory / "manifest.json.partial"
        partial.write_text(json.dumps(manifest, indent=2))
        os.replace(partial, self.directory / "manifest.json")
        return manifest


class Spool:
    """Where recordings are written while they run: a directory (a volume in Kubernetes)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, session_id: UUID, recording_id: UUID) -> Path:
        return self.root / str(session_id) / str(recording_id)

    def start(self, session_id: UUID, activity_id: UUID) -> Recorder:
        directory = self.directory(session_id, recording_id_of(activity_id))
        return Recorder(directory, session_id, activity_id)

    def unfinished(self, session_id: UUID, activity_id: UUID) -> Recorder | None:
        """A recording a relay before a restart began and did not finish."""
        directory = self.directory(session_id, recording_id_of(activity_id))
        if not (directory / "stream.bin").is_file() or (directory / "manifest.json").is_file():
            return None
        return Recorder(directory, session_id, activity_id)


class RecordingStorage(Spool):
    """Finished recordings stay where they were written: ``<root>/<session>/<recording>/``."""

    async def keep(self, recorder: Recorder) -> str:
        """Make a finished recording available; where it is."""
        return recorder.directory.as_uri()

    async def manifest(self, session_id: UUID, recording_id: UUID) -> dict[str, Any] | None:
        path = self.directory(session_id, recording_id) / "manifest.json"
        if not path.is_file():
            return None
        manifest: dict[str, Any] = json.loads(path.read_text())
        return manifest

    async def stream(self, session_id: UUID, recording_id: UUID) -> bytes | None:
        path = self.directory(session_id, recording_id) / "stream.bin"
        return await asyncio.to_thread(path.read_bytes) if path.is_file() else None


class ObjectStorage(Spool):
    """Finished recordings in an S3 bucket (AWS, MinIO, Ceph...): ``<session>/<recording>/``
    holds ``stream.bin`` and ``manifest.json``. They are written to the spool directory while
    they run and uploaded when they end; the spool copy is removed once uploaded."""

    def __init__(self, spool: Path, bucket: str, client: S3Client) -> None:
        super().__init__(spool)
        self.bucket, self._s3 = bucket, client

    async def keep(self, recorder: Recorder) -> str:
        prefix = f"{recorder.session_id}/{recorder.recording_id}"
        for name in ("stream.bin", "manifest.json"):  # the manifest last: it says "complete"
            path = str(recorder.directory / name)
            await asyncio.to_thread(self._s3.upload_file, path, self.bucket, f"{prefix}/{name}")
        await asyncio.to_thread(shutil.rmtree, recorder.directory)
        return f"s3://{self.bucket}/{prefix}/"

    async def _get(self, key: str) -> bytes | None:
        def get() -> bytes | None:
            try:
                return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except self._s3.exceptions.NoSuchKey:
                return None

        return await asyncio.to_thread(get)

    async def manifest(self, session_id: UUID, recording_id: UUID) -> dict[str, Any] | None:
        raw = await self._get(f"{session_id}/{recording_id}/manifest.json")
        manifest: dict[str, Any] | None = None if raw is None else json.loads(raw)
        return manifest

    async def stream(self, session_id: UUID, recording_id: UUID) -> bytes | None:
        return await self._get(f"{session_id}/{recording_id}/stream.bin")


def open_storage(
    root: Path, bucket: str | None, endpoint: str | None, region: str
) -> RecordingStorage | ObjectStorage:
    """A directory, or a bucket where one is configured (credentials as boto3 finds them:
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a web identity, an instance role)."""
    if bucket is None:
        return RecordingStorage(root)
    client = boto3.client("s3", endpoint_url=endpoint, region_name=region)
    return ObjectStorage(root, bucket, client)


def read_records(stream: bytes) -> list[Record]:
    """The records of a ``stream.bin``, for whoever plays a recording back; a record cut short
    (the relay died while writing it) ends the list."""
    records, at = [], 0
    while at + RECORD.size <= len(stream):
        kind, when, length = RECORD.unpack_from(stream, at)
        at += RECORD.size
        raw = stream[at : at + length]
        at += length
        if len(raw) < length:
            break
        records.append(Record(when, raw.decode() if kind == TEXT else raw))
    return records
