"""Base classes of every event and command, and the registry that maps a type name to its model.

An event class is the schema of the envelope's ``data``; its class name is the event ``type``
and, with its context, the routing key ``<context>.<EventType>`` on ``support.events``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, ValidationError


class ContractViolation(ValueError):
    """A message does not match its contract; the message names every offending field."""

    @classmethod
    def from_validation_error(cls, model: str, error: ValidationError) -> ContractViolation:
        problems = []
        for item in error.errors():
            field = ".".join(str(part) for part in item["loc"]) or "(message)"
            problems.append(f"{field}: {item['msg']}")
        return cls(f"{model} is not valid: " + "; ".join(problems))


class Strict(BaseModel):
    """Frozen, strict about unknown fields, and parsed with errors that name the field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def parse(cls, data: dict[str, Any] | str | bytes) -> Self:
        try:
            if isinstance(data, dict):
                return cls.model_validate(data)
            return cls.model_validate_json(data)
        except ValidationError as error:
            raise ContractViolation.from_validation_error(cls.__name__, error) from error


B = TypeVar("B", bound=BaseModel)


def fields_of(model: BaseModel, part: type[BaseModel]) -> dict[str, Any]:
    """``model``'s values of the fields ``part`` defines: a group of fields a command carries
    on, as they are, into the event that records it."""
    return {name: getattr(model, name) for name in part.model_fields}


def exactly_one(model: B, first: str, second: str, message: str) -> B:
    """``model``, if exactly one of its fields ``first`` and ``second`` is given."""
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise ValueError(message)
    return model


class Message(Strict):
    """An event or a command: versioned, with a JSON Schema to publish."""

    schema_version: ClassVar[int] = 1

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema["x-schema-version"] = cls.schema_version
        return schema


class Event(Message):
    """Something that happened, named in the past tense. Subclasses set ``context``."""

    context: ClassVar[str]

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    @classmethod
    def routing_key(cls) -> str:
        return f"{cls.context}.{cls.__name__}"


class Command(Message):
    """A request to a service, named in the imperative. Ids and time of the outcome are the
    handling service's to assign; the command carries who asks and how to correlate."""

    context: ClassVar[str]

    command_id: UUID
    correlation_id: UUID
    actor_id: str | None = None

    @classmethod
    def command_type(cls) -> str:
        return cls.__name__

    @classmethod
    def new(cls, **fields: Any) -> Self:
        """This command with an id of its own, and a correlation id of its own unless given
        (what it follows on from)."""
        return cls(
            command_id=uuid4(),
            correlation_id=fields.pop("correlation_id", None) or uuid4(),
            **fields,
        )


M = TypeVar("M", bound=Message)


class Registry(Generic[M]):
    """Type name -> model class, for one kind of message (events or commands)."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._by_name: dict[str, type[M]] = {}

    def add(self, *classes: type[M]) -> None:
        for cls in classes:
            name = cls.__name__
            if name in self._by_name and self._by_name[name] is not cls:
                raise ValueError(f"two {self._kind} types are named {name}")
            self._by_name[name] = cls

    def get(self, name: str) -> type[M]:
        try:
            return self._by_name[name]
        except KeyError:
            raise ContractViolation(f"unknown {self._kind} type {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def classes(self) -> list[type[M]]:
        return [self._by_name[name] for name in self.names()]
