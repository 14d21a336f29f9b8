"""pytest fixtures for tests that need the real RabbitMQ and PostgreSQL.

Where they come from: ``DATABASE_URL`` / ``AMQP_URL`` when set; otherwise a testcontainers
container when a Docker engine answers; otherwise the services on loopback. A service that
does not answer fails the test with the command that starts it, never skips it. Each test
gets a database schema and RabbitMQ exchange and queue names of its own, removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from uuid import uuid4

import aio_pika
import asyncpg
import pytest
import pytest_asyncio

from support_contracts.topology import Topology

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_RABBITMQ = "rabbitmq-server -detached"


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def _answers(check: Callable[[str], Coroutine[Any, Any, None]], url: str) -> Exception | None:
    """Run an async check on a thread of its own: fixtures may be set up inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, check(url)).result()
        except Exception as error:
            return error
    return None


async def _check_postgres(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    await conn.close()


async def _check_rabbitmq(url: str) -> None:
    conn = await asyncio.wait_for(aio_pika.connect(url), 10)
    await conn.close()


def _real_service(
    name: str,
    variable: str,
    default: str,
    check: Callable[[str], Coroutine[Any, Any, None]],
    start: str,
    container: Callable[[], AbstractContextManager[str]],
) -> Iterator[str]:
    """The service's URL: from ``variable``; else a container when Docker answers; else the
    loopback default. Fails, with the command that starts it, when it does not answer."""
    url = os.environ.get(variable)
    if url is None and _docker_answers():
        with container() as container_url:
            yield container_url
        return
    url = url or default
    if (error := _answers(check, url)) is not None:
        pytest.fail(
            f"{name} does not answer at {url} ({error!r}). Start it with `{start}`"
            f" or point {variable} at one.",
            pytrace=False,
        )
    yield url


@contextmanager
def _postgres_container() -> Iterator[str]:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:15", driver=None) as container:
        yield container.get_connection_url()


@contextmanager
def _rabbitmq_container() -> Iterator[str]:
    from testcontainers.rabbitmq import RabbitMqContainer

    with RabbitMqContainer("rabbitmq:3.10-management") as container:
        params = container.get_connection_params()
        yield f"amqp://guest:guest@{params.host}:{params.port}/"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    yield from _real_service(
        "PostgreSQL", "DATABASE_URL", DEFAULT_DATABASE_URL, _check_postgres, START_POSTGRES,
        _postgres_container,
    )  # fmt: skip


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    yield from _real_service(
        "RabbitMQ", "AMQP_URL", DEFAULT_AMQP_URL, _check_rabbitmq, START_RABBITMQ,
        _rabbitmq_container,
    )  # fmt: skip


@asynccontextmanager
async def fresh_schema(database_url: str) -> AsyncIterator[str]:
    """A schema name of its own; dropped with everything in it afterwards."""
    schema = f"t_{uuid4().hex[:16]}"
    try:
        yield schema
    finally:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()


@pytest_asyncio.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """An event log; every test that takes it runs against both implementations."""
    from eventlog import InMemoryEventStore
    from eventlog.postgres import PostgresEventStore

    if request.param == "memory":
        yield InMemoryEventStore()
        return
    database_url = request.getfixturevalue("database_url")
    async with fresh_schema(database_url) as schema:
        pg = await PostgresEventStore.connect(database_url, schema)
        yield pg
        await pg.close()


@pytest_asyncio.fixture
async def pg_schema(database_url: str) -> AsyncIterator[str]:
    async with fresh_schema(database_url) as schema:
        yield schema


@dataclass
class RabbitNames:
    """Exchange and queue names of one test's own; ``queue()`` remembers what to delete."""

    token: str
    queues: list[str] = field(default_factory=list)

    @property
    def exchange(self) -> str:
        return f"support.events.{self.token}"

    @classmethod
    def fresh(cls) -> RabbitNames:
        return cls(token=f"t{uuid4().hex[:12]}")

    @property
    def prefix(self) -> str:
        """The ``queue_prefix`` of the services a test starts: the topology's queues, its own
        (every one of them is deleted at the end, whether a service declared it or not)."""
        for name in Topology(self.exchange, f"{self.token}.").queues:
            if name not in self.queues:
                self.queues.append(name)
        return f"{self.token}."

    def topology(self) -> Topology:
        return Topology(self.exchange, self.prefix)

    def queue(self, name: str) -> str:
        full = f"{self.token}.{name}"
        if full not in self.queues:
            self.queues += [full, f"{full}.dead"]
        return full

    async def delete(self, amqp_url: str) -> None:
        conn = await aio_pika.connect(amqp_url)
        try:
            channel = await conn.channel()
            for queue in self.queues:
                await channel.queue_delete(queue)
            await channel.exchange_delete(self.exchange)
        finally:
            await conn.close()


async def waiting_in(amqp_url: str, queue: str) -> int:
    """How many messages wait in ``queue`` now (which must exist)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


@pytest_asyncio.fixture
async def rabbit_names(amqp_url: str) -> AsyncIterator[RabbitNames]:
    names = RabbitNames.fresh()
    yield names
    await names.delete(amqp_url)


S = TypeVar("S")


class SettingsFor(Protocol):
    def __call__(self, kind: Callable[..., S], schema: str, /, **extra: Any) -> S:
        """``kind`` (a service's settings class) for this test: its servers, its ``schema``,
        its RabbitMQ names; ``extra`` the test's own."""
        ...


@pytest.fixture
def settings_for(database_url: str, amqp_url: str, rabbit_names: RabbitNames) -> SettingsFor:
    """A service's settings on the test's own schema and RabbitMQ names (one way to write
    them, for every service's tests)."""

    def make(kind: Callable[..., S], schema: str, /, **extra: Any) -> S:
        return kind(
            amqp_url=amqp_url,
            database_url=database_url,
            database_schema=schema,
            exchange=rabbit_names.exchange,
            queue_prefix=rabbit_names.prefix,
            **extra,
        )

    return make


REAL_SERVICES = {"database_url", "amqp_url"}  # every fixture that reaches one depends on these


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Issue 15.9: a test that needs RabbitMQ or PostgreSQL is marked ``integration`` by what
    it takes, so the mark cannot be forgotten: a fixture that reaches them, or a parameter of a
    fixture that asks for them when run (``store[postgres]``, ``stack[postgres+rabbitmq]``).
    ``pytest -m "not integration"`` is then the fast suite."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        ids = callspec.id if callspec is not None else ""
        if names & REAL_SERVICES or "postgres" in ids or "rabbitmq" in ids:
            item.add_marker(pytest.mark.integration)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--services-from-image",
        action="store_true",
        help="the end-to-end tests' services as containers of the image built from the "
        "Dockerfile with podman (tests-containers/README.md), not as processes",
    )
