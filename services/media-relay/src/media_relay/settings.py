"""media-relay's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from service_runtime.settings import ServiceSettings
from support_contracts.topology import Topology


class Settings(ServiceSettings):
    database_schema: str = "media_relay"
    QUEUES: ClassVar[dict[str, Callable[[Topology], str]]] = {
        "session_queue": lambda t: t.subscription("media-relay").queue,
        "session_commands": lambda t: t.command_queue("session-svc"),
    }
    session_queue: str
    session_commands: str
    host: str = "0.0.0.0"
    port: int = 8765
    participant_token_secret: str = Field(min_length=32)  # HS256 wants 256 bits
    recordings_dir: Path = Path("/var/lib/media-relay/recordings")
    recordings_bucket: str | None = None  # set: finished recordings go to this S3 bucket
    recordings_s3_endpoint: str | None = None  # MinIO, Ceph...; unset: AWS
    recordings_s3_region: str = "us-east-1"
    lossy_limit: int = Field(default=8, ge=1)
    reliable_limit_bytes: int = Field(default=16 * 2**20, ge=2**16)
    pool_size: int = 5
    snapshot_every_events: int = Field(default=10_000, ge=1)  # the view saved, for a fast start
    ended_sessions_kept: int = Field(default=10_000, ge=0)  # older ones are read from the log
