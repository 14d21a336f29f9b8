"""Builds media-relay from settings: its log, the inbox of session events, the view that
follows the log, the hub and the WebSocket door. Tests build it with their own settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Gauge

from eventlog import Inbox, OutboxRelay
from eventlog.inbox import forgetting
from eventlog.ops import BrokerProbe, outbox_lag, readiness
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher, declare_topology
from media_relay.hub import Hub
from media_relay.journal import (
    RecordingLog,
    catch_up,
    follow_log,
    history,
    keep_session_event,
    publishes,
    snapshots,
)
from media_relay.recording import open_storage
from media_relay.server import RelayServer
from media_relay.settings import Settings
from media_relay.view import RelayView
from service_runtime import Readiness, Refresh, Running
from support_rpc import RpcClient

log = structlog.get_logger(__name__)

CONNECTIONS = Gauge("support_relay_connections", "Participants connected to this relay")
DROPPED = Gauge("support_relay_frames_dropped", "Frames dropped for slow viewers connected now")


@dataclass
class MediaRelay:
    settings: Settings
    store: PostgresEventStore
    view: RelayView
    hub: Hub
    server: RelayServer
    running: Running
    checks: tuple[list[Readiness], list[Refresh]]

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        return self.checks

    @property
    def port(self) -> int:
        return self.server.port

    async def stop(self) -> None:
        await self.running.stop()
        log.info("media_relay.stopped")


async def start(settings: Settings) -> MediaRelay:
    await declare_topology(settings.amqp_url, settings.topology())  # issue 14.11
    store = await PostgresEventStore.connect(
        settings.database_url, settings.database_schema, max_size=settings.pool_size
    )
    view = RelayView(keep_ended=settings.ended_sessions_kept)
    saved = snapshots(store, settings.snapshot_every_events)
    await catch_up(store, view, saved)
    recordings = RecordingLog(store)
    hub = Hub(
        view,
        open_storage(
            settings.recordings_dir,
            settings.recordings_bucket,
            settings.recordings_s3_endpoint,
            settings.recordings_s3_region,
        ),
        recordings.stored,
        lossy_limit=settings.lossy_limit,
        reliable_limit_bytes=settings.reliable_limit_bytes,
    )
    client = await RpcClient(settings.amqp_url).connect()

    async def sessions(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        return await client.call(settings.session_commands, command_type, command)

    server = RelayServer(
        view,
        hub,
        sessions,
        recordings.recordings,
        token_secret=settings.participant_token_secret,
        history=lambda session_id: history(store, session_id),
    )
    publisher = RabbitPublisher(settings.amqp_url, settings.exchange)
    relay = OutboxRelay(store, publisher, publishes=publishes)
    session_events = RabbitEventConsumer(
        settings.amqp_url,
        settings.session_queue,
        settings.topology().subscription("media-relay").routing_keys,
        Inbox(store, "media-relay", keep_session_event),
        exchange=settings.exchange,
        single_active=True,
    )
    await session_events.start()
    probe = BrokerProbe(settings.amqp_url)
    running = Running(doors=[server, session_events], resources=[client, publisher, probe, store])
    running.tasks.append(asyncio.create_task(forgetting(store, keep=settings.inbox_keep)))
    running.tasks += [
        asyncio.create_task(relay.run()),
        asyncio.create_task(follow_log(store, view, hub, saved)),
    ]
    await server.start(settings.host, settings.port)
    server.ready = True
    log.info("media_relay.started", port=server.port, schema=settings.database_schema)

    async def connections() -> None:
        clients = [c for room in hub.rooms.values() for c in room.clients]
        CONNECTIONS.set(len(clients))
        DROPPED.set(sum(c.queue.dropped for c in clients))

    async def following() -> None:
        if not view.following:
            raise RuntimeError("the relay cannot read its log: new participants would be refused")

    ready = [*readiness(store, probe, session_events), Readiness("log followed", following)]
    checks = (ready, [outbox_lag(store), connections])
    return MediaRelay(settings, store, view, hub, server, running, checks)
