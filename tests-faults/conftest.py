"""The fault suite's servers: a RabbitMQ node and a PostgreSQL cluster of its own, started once
for the suite, stopped, killed and started again by the tests; never the machine's shared
servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support_testkit.private import PrivatePostgres, PrivateRabbit


@pytest.fixture(scope="session")
def private_rabbit() -> Iterator[PrivateRabbit]:
    yield from PrivateRabbit.running()


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    yield from PrivatePostgres.running()


@pytest.fixture
def rabbit(private_rabbit: PrivateRabbit) -> Iterator[PrivateRabbit]:
    """The node, running when the test starts and when it ends, whatever the test did."""
    yield private_rabbit
    private_rabbit.start_if_stopped()


@pytest.fixture
def postgres(private_postgres: PrivatePostgres) -> Iterator[PrivatePostgres]:
    yield private_postgres
    private_postgres.start_if_stopped()
