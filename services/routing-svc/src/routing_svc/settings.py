"""routing-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from support_contracts import EXCHANGE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    database_schema: str = "routing_svc"
    exchange: str = EXCHANGE
    command_queue: str = "routing-svc.commands"
    session_queue: str = "routing-svc.session-events"
    session_commands: str = "session-svc.commands"
    named_offer_timeout_seconds: float = 60.0
    pool_size: int = 10

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment of a ``python -m routing_svc`` process."""
        return {name.upper(): str(value) for name, value in self.model_dump().items()}
