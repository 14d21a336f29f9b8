"""What every service reads from its environment (and nothing else: no files, no flags): the
broker, its own log in PostgreSQL, the events exchange. Each service's ``Settings`` adds its own
and names its schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from support_contracts import EXCHANGE
from support_contracts.topology import Topology


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    database_schema: str
    exchange: str = EXCHANGE
    queue_prefix: str = ""  # before every queue name of the topology (tests give their own)
    pool_size: int = 10
    inbox_keep_days: float = Field(default=7.0, gt=0)  # what was handled, remembered this long

    # each queue name field and which queue of the topology it is: a name not given is the
    # topology's, behind the prefix (issue 14.11: one place names them)
    QUEUES: ClassVar[dict[str, Callable[[Topology], str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _queues_of_the_topology(cls, data: Any) -> Any:
        if isinstance(data, dict):
            topology = Topology(prefix=str(data.get("queue_prefix", "")))
            for name, which in cls.QUEUES.items():
                data.setdefault(name, which(topology))
        return data

    @property
    def inbox_keep(self) -> timedelta:
        return timedelta(days=self.inbox_keep_days)

    def topology(self) -> Topology:
        return Topology(self.exchange, self.queue_prefix)

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment of the service's process (``python -m ...``)."""
        values = self.model_dump(mode="json").items()
        return {
            name.upper(): json.dumps(value) if isinstance(value, dict | list) else str(value)
            for name, value in values
            if value is not None
        }
