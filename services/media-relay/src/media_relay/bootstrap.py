"""Builds media-relay on its host: the inbox of session events, the view that follows the log,
the hub and the WebSocket door. Processes, the embedded demo and tests start it the same way;
only the store and the broker they give differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from prometheus_client import Gauge

from eventlog.snapshots import catch_up
from media_relay.hub import Hub
from media_relay.journal import (
    RecordingLog,
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
from service_runtime.host import Given, Host, Served

CONNECTIONS = Gauge("support_relay_connections", "Participants connected to this relay")
DROPPED = Gauge("support_relay_frames_dropped", "Frames dropped for slow viewers connected now")


@dataclass
class MediaRelay(Served[Settings]):
    view: RelayView
    hub: Hub
    server: RelayServer


async def start(settings: Settings, **given: Unpack[Given]) -> MediaRelay:
    host = await Host.open("media-relay", settings, **given)
    log = host.store
    view = RelayView(keep_ended=settings.ended_sessions_kept)
    saved = snapshots(log, settings.snapshot_every_events)
    await catch_up(log, view, saved)
    recordings = RecordingLog(log)
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
    server = RelayServer(
        view,
        hub,
        await host.calls(settings.session_commands),
        recordings.recordings,
        token_secret=settings.participant_token_secret,
        history=lambda session_id: history(log, session_id),
    )
    host.door(server)  # no new participants first
    subscription = settings.topology().subscription("media-relay")
    await host.consume(
        settings.session_queue,
        subscription.routing_keys,
        keep_session_event,
        single_active=True,
        record_in_append=True,  # one statement an event: the copy and the inbox's record
    )
    host.relay(publishes=publishes)
    host.run(follow_log(log, view, hub, saved), "log followed")
    await server.start(settings.host, settings.port)
    server.ready = True

    async def connections() -> None:
        clients = [c for room in hub.rooms.values() for c in room.clients]
        CONNECTIONS.set(len(clients))
        DROPPED.set(sum(c.queue.dropped for c in clients))

    async def following() -> None:
        if not view.following:
            raise RuntimeError("the relay cannot read its log: new participants would be refused")

    host.check("log followed", following)
    host.refresh.append(connections)
    host.started(port=server.port)
    return MediaRelay(settings, host, view, hub, server)
