"""media-relay's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    database_schema: str = "media_relay"
    session_queue: str = "media-relay.session-events"
    session_commands: str = "session-svc.commands"
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
