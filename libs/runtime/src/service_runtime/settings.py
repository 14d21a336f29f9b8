"""What every service reads from its environment (and nothing else: no files, no flags): the
broker, its own log in PostgreSQL, the events exchange. Each service's ``Settings`` adds its own
and names its schema."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from support_contracts import EXCHANGE


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    database_schema: str
    exchange: str = EXCHANGE
    pool_size: int = 10

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment of the service's process (``python -m ...``)."""
        values = self.model_dump().items()
        return {name.upper(): str(value) for name, value in values if value is not None}
