"""Issue 15.8: one AMQP connection per process. A service's publisher, consumers, command server,
client, live listener and probe are channels on the one connection its host opened, named
after the service in the broker's list; stopping the service closes it."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from gateway.bootstrap import start
from routing_svc.bootstrap import start as start_routing
from routing_svc.settings import Settings as RoutingSettings
from support_testkit.plugin import RabbitNames, SettingsFor, fresh_schema

from .conftest import bearer, gateway_settings


def amqp_connections(amqp_url: str) -> int:
    """This process's established TCP connections to the broker's port (its sockets' inodes
    looked up in the kernel's table of TCP connections)."""
    port = urlsplit(amqp_url).port or 5672
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        target = os.readlink(f"/proc/self/fd/{fd}") if os.path.islink(f"/proc/self/fd/{fd}") else ""
        if target.startswith("socket:["):
            ours.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port, state, inode = int(fields[2].rsplit(":", 1)[1], 16), fields[3], fields[9]
            count += remote_port == port and state == "01" and inode in ours
    return count


async def test_issue_15_8_a_service_holds_one_connection_and_closes_it_at_the_stop(
    database_url: str, amqp_url: str, settings_for: SettingsFor
) -> None:
    before = amqp_connections(amqp_url)
    async with fresh_schema(database_url) as schema:
        routing = await start_routing(settings_for(RoutingSettings, schema))
        try:
            readiness, _ = routing.ops()
            for each in readiness:  # the probe, the consumer, the command server: all ready
                await each.check()
            await routing.host.client()  # its calls to session-svc, on the same connection
            assert amqp_connections(amqp_url) == before + 1
        finally:
            await routing.stop()
    assert amqp_connections(amqp_url) == before


async def test_issue_15_8_the_gateway_holds_one_connection_for_calls_and_live_updates(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, services: None
) -> None:
    before = amqp_connections(amqp_url)  # the services behind it, each with its own
    async with fresh_schema(database_url) as schema:
        gateway = await start(gateway_settings(amqp_url, database_url, schema, rabbit_names))
        try:
            async with httpx.AsyncClient(base_url=gateway.url, timeout=20) as api:
                started = await api.post("/v1/sessions", json={}, headers=bearer("alice", "csr"))
                assert started.status_code == 201, started.text
            readiness, _ = gateway.ops()
            for each in readiness:  # the probe and the live listener
                await each.check()
            assert amqp_connections(amqp_url) == before + 1
        finally:
            await gateway.stop()
    assert amqp_connections(amqp_url) == before
