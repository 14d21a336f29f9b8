"""invite-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from support_contracts import EXCHANGE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    database_schema: str = "invite_svc"
    exchange: str = EXCHANGE
    command_queue: str = "invite-svc.commands"
    session_queue: str = "session-svc.commands"
    session_events_queue: str = "invite-svc.session-events"
    smtp_url: str = "smtp://127.0.0.1:1025"
    smtp_ca_file: str | None = None
    mail_from: str = "Support <support@example.com>"
    support_site_url: str = "https://support.example.com"
    delivery_seconds: float = 1.0
    pool_size: int = 10

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment of a ``python -m invite_svc`` process."""
        values = self.model_dump().items()
        return {name.upper(): str(value) for name, value in values if value is not None}
