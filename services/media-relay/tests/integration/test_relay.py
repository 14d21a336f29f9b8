"""The relay with session-svc over the real RabbitMQ and PostgreSQL, and real WebSocket clients:
who gets in (M1), who may act (M2) (what the session's events end, M3, in ``test_relay_endings``),
recording, reconnecting, a relay restarted from its log, and the controller's open socket as
its console's presence (S4)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from uuid import UUID, uuid4

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from media_relay import frames
from media_relay.bootstrap import MediaRelay, start
from media_relay.domain.state import Status
from media_relay.recording import read_records
from session_svc.bootstrap import SessionService
from session_svc.console_watch import ConsoleWatch
from support_testkit.waiting import eventually

from .peers import Peer, Sessions, gather, http_get, recordings, token

pytestmark = pytest.mark.integration


async def refused(port: int, session_id: str, token_text: str) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(
            f"ws://127.0.0.1:{port}/v1/sessions/{session_id}/relay?token={token_text}"
        ):
            pass
    response = refusal.value.response
    return response.status_code, json.loads(response.body)["error"]


async def test_m1_a_bad_expired_or_foreign_token_is_refused_before_any_frame(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session = await sessions.start("alice")
    other = await sessions.start("bob")
    customer = await sessions.customer(session, "Carol")

    assert (await refused(relay.port, session, "not-a-token"))[0] == 401
    assert (await refused(relay.port, session, token(customer, session, ttl=-1)))[0] == 401
    forged = token(customer, session)[:-4] + "AAAA"
    assert (await refused(relay.port, session, forged))[0] == 401
    status, message = await refused(relay.port, other, token(customer, session))
    assert (status, message) == (403, "this token is for another session")
    status, message = await refused(relay.port, other, token(customer, other))
    assert (status, message) == (403, "you are not a participant of this session")

    await sessions("EndSession", "alice", session_id=session)
    ended = relay.view.sessions[UUID(session)]
    await eventually(lambda: ended.status is Status.ENDED, what="the relay to hear of the end")
    assert (await refused(relay.port, session, token(customer, session)))[0] == 409


async def test_m1_s6_traffic_reaches_every_participant_of_its_session_and_nobody_else(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session, elsewhere = await sessions.start("alice"), await sessions.start("bob")
    carol = await sessions.customer(session, "Carol")
    await sessions.assistant(session, "dave")
    eve = await sessions.customer(elsewhere, "Eve")
    alice, carol_peer = await Peer.connect(relay.port, session, "alice"), None
    carol_peer = await Peer.connect(relay.port, session, carol)
    dave = await Peer.connect(relay.port, session, "dave")
    bob, eve_peer = (
        await Peer.connect(relay.port, elsewhere, "bob"),
        await Peer.connect(relay.port, elsewhere, eve),
    )

    sharing = await alice.request(type="start", kind="desktop_sharing")
    chat = await alice.request(type="start", kind="chat")
    assert sharing["type"] == chat["type"] == "ok"
    await alice.share(sharing["activity_id"], b"frame-1")
    await carol_peer.chat("hello")

    for viewer in (carol_peer, dave):
        await eventually(lambda v=viewer: v.payloads() == [b"frame-1"], what="the frame")
    for peer in (alice, carol_peer, dave):
        told = await peer.expect("chat")
        assert (told["from"], told["text"]) == (carol, "hello")
    header = json.loads(carol_peer.frames[0][2 : 2 + int.from_bytes(carol_peer.frames[0][:2])])
    assert header["from"] == "alice"
    assert alice.frames == []  # a sender does not get its own frames back
    # a sentinel in the other session, sent after: anything misrouted would be ahead of it
    other_chat = await bob.request(type="start", kind="chat")
    assert other_chat["type"] == "ok"
    await eve_peer.chat("sentinel")
    for peer in (bob, eve_peer):
        told = await peer.expect("chat")
        assert told["text"] == "sentinel"
    assert bob.frames == eve_peer.frames == []
    chats = [n["text"] for n in bob.notices + eve_peer.notices if n["type"] == "chat"]
    assert chats == ["sentinel", "sentinel"]


async def test_m2_only_the_controller_starts_and_only_a_running_activity_carries_frames(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session, _carol, alice, carol_peer = await gather(relay.port, sessions, assistant="dave")
    dave = await Peer.connect(relay.port, session, "dave")

    refusal = await dave.request(type="start", kind="video")
    assert (refusal["type"], refusal["status"]) == ("error", 403)
    await carol_peer.chat("anyone?")  # no chat is running
    assert (await carol_peer.expect("error"))["code"] == "not_running"
    await alice.share(str(uuid4()), b"x")
    assert (await alice.expect("error"))["code"] == "not_running"

    video = (await alice.request(type="start", kind="video"))["activity_id"]
    await dave.share(video, b"from an assistant", kind="video")
    assert await dave.expect("error", lambda n: n["code"] == "not_allowed")
    await alice.share(video, b"not a share", kind="share")  # the wrong kind for a video
    assert (await alice.expect("error", lambda n: "share" in n["message"]))["code"] == "not_running"
    await alice.ws.send(b"\x00\x05{bad}")
    assert await alice.expect("error", lambda n: n["code"] == "bad_frame")

    # the active customer may share its own desktop, and only it sends that share's frames
    own = await carol_peer.request(type="start", kind="desktop_sharing")
    assert own["type"] == "ok"
    await alice.share(own["activity_id"], b"not alice's")
    assert await alice.expect("error", lambda n: "who shares" in n["message"])
    await carol_peer.share(own["activity_id"], b"carol's screen")
    await eventually(lambda: b"carol's screen" in dave.payloads(), what="carol's share")
    assert b"not alice's" not in dave.payloads()

    await eventually(lambda: alice.payloads() == [b"carol's screen"], what="alice sees it")
    stop = await alice.request(type="stop", activity_id=own["activity_id"])
    assert stop["type"] == "ok"
    ended = await dave.expect("activity_ended")
    assert (ended["activity_id"], ended["reason"]) == (own["activity_id"], "stopped")
    await carol_peer.share(own["activity_id"], b"after the end")
    assert await carol_peer.expect("error", lambda n: n["code"] == "not_running")


async def test_file_chunks_carry_name_offset_and_a_checksum_the_relay_checks(
    relay: MediaRelay, sessions: Sessions
) -> None:
    _session, _carol, alice, carol_peer = await gather(relay.port, sessions)
    transfer = (await alice.request(type="start", kind="file_transfer"))["activity_id"]

    await alice.ws.send(frames.file_chunk(uuid4(), "x", 0, b"")[:2] + b"")  # a cut frame
    await alice.ws.send(frames.file_chunk(transfer, "log.txt", 0, b"first part ")[:-1] + b"X")
    assert (await alice.expect("error", lambda n: "sha256" in n["message"]))["code"] == "bad_frame"
    for offset, part in ((0, b"first part "), (11, b"second part")):
        await alice.ws.send(frames.file_chunk(transfer, "log.txt", offset, part))

    await eventually(lambda: len(carol_peer.frames) == 2, what="both chunks")
    chunks = [frames.parse(f) for f in carol_peer.frames]
    assert [(c.header["name"], c.header["offset"]) for c in chunks] == [
        ("log.txt", 0),
        ("log.txt", 11),
    ]
    assert b"".join(c.payload for c in chunks) == b"first part second part"


async def test_m2_recording_stores_chat_and_frames_until_it_ends_for_the_controller(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session, carol, alice, carol_peer = await gather(relay.port, sessions)
    chat = (await alice.request(type="start", kind="chat"))["activity_id"]
    sharing = (await alice.request(type="start", kind="desktop_sharing"))["activity_id"]
    await carol_peer.chat("before the recording")
    recording = (await alice.request(type="start", kind="recording"))["activity_id"]
    await carol_peer.chat("my printer is on fire")
    await alice.share(sharing, b"\x89PNG picture")
    await eventually(lambda: len(carol_peer.frames) == 1, what="the frame")
    assert (await alice.request(type="stop", activity_id=recording))["type"] == "ok"
    await carol_peer.chat("after the recording")
    await alice.expect("chat", lambda n: n["text"] == "after the recording")

    base = f"http://127.0.0.1:{relay.port}/v1/sessions/{session}/recordings"

    stored = (await eventually(lambda: recordings(base, session), what="the recording"))[0]
    assert (stored["activity_id"], stored["frames"]) == (recording, 2)
    status, manifest = await http_get(f"{base}/{stored['recording_id']}", token("alice", session))
    assert status == 200 and manifest["end_reason"] == "stopped"
    status, raw = await http_get(f"{base}/{stored['recording_id']}/stream", token("alice", session))
    records = [r.message for r in read_records(raw)]
    assert json.loads(records[0])["text"] == "my printer is on fire"
    assert frames.parse(records[1]).payload == b"\x89PNG picture"
    assert (await http_get(base, token(carol, session)))[0] == 403  # not the controller
    assert chat  # the chat ran all along; only what ran while recording is kept


async def test_a_client_reconnects_and_finds_the_session_as_it_is(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session, carol, alice, carol_peer = await gather(relay.port, sessions)
    sharing = (await alice.request(type="start", kind="desktop_sharing"))["activity_id"]
    await carol_peer.close()

    await alice.share(sharing, b"missed while away")
    again = await Peer.connect(relay.port, session, carol)
    welcome = await again.expect("welcome")
    assert [a["activity_id"] for a in welcome["activities"]] == [sharing]
    assert (welcome["role"], welcome["active_customer"]) == ("customer", carol)
    await alice.share(sharing, b"after the reconnect")
    await eventually(lambda: again.payloads() == [b"after the reconnect"], what="the frame")


async def test_a_restarted_relay_rebuilds_its_view_from_its_log_and_goes_on_recording(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session = await sessions.start("alice")
    carol = await sessions.customer(session, "Carol")
    alice = await Peer.connect(relay.port, session, "alice")
    await alice.request(type="start", kind="chat")
    sharing = (await alice.request(type="start", kind="desktop_sharing"))["activity_id"]
    recording = (await alice.request(type="start", kind="recording"))["activity_id"]
    await alice.chat("before the restart")
    await alice.expect("chat")
    await relay.stop()
    assert (await alice.closed_with())[0] == 1001  # going away

    again = await start(relay.settings.model_copy(update={"port": 0}))
    try:
        assert again.view.sessions[UUID(session)].participants.keys() == {"alice", carol}
        alice = await Peer.connect(again.port, session, "alice")
        carol_peer = await Peer.connect(again.port, session, carol)
        await alice.share(sharing, b"still sharing")
        await eventually(lambda: carol_peer.payloads() == [b"still sharing"], what="the frame")
        await alice.chat("after the restart")
        await carol_peer.expect("chat")
        assert (await alice.request(type="stop", activity_id=recording))["type"] == "ok"

        base = f"http://127.0.0.1:{again.port}/v1/sessions/{session}/recordings"

        [listed] = await eventually(lambda: recordings(base, session), what="the recording")
        _, raw = await http_get(f"{base}/{listed['recording_id']}/stream", token("alice", session))
        records = [r.message for r in read_records(raw)]  # type: ignore[arg-type]
        assert json.loads(records[0])["text"] == "before the restart"
        assert frames.parse(records[1]).payload == b"still sharing"
        assert json.loads(records[2])["text"] == "after the restart"
        assert listed["frames"] == 3
    finally:
        await again.stop()


async def test_m4_a_slow_viewer_drops_frames_never_chat_and_holds_back_nobody(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session, carol, alice, fast = await gather(relay.port, sessions, assistant="dave")
    slow = await Peer.connect(relay.port, session, "dave", receive_buffer=4096)
    sharing = (await alice.request(type="start", kind="desktop_sharing"))["activity_id"]
    await alice.request(type="start", kind="chat")
    slow._reader.cancel()  # stops reading: what the relay sends piles up in front of it

    picture = os.urandom(64 * 1024)
    began = time.monotonic()
    for n in range(150):
        await alice.share(sharing, picture)
        if n % 10 == 0:
            await alice.chat(f"chat {n}")
        await asyncio.sleep(1 / 100)
    sending = time.monotonic() - began

    await eventually(lambda: len(fast.frames) == 150, what="every frame to the fast viewer")
    assert sending < 1.5 * 150 / 100 + 1  # the sender was never made to wait for the slow one
    counters = await http_get(
        f"http://127.0.0.1:{relay.port}/v1/sessions/{session}/viewers", token("alice", session)
    )
    by_viewer = {v["participant_id"]: v for v in counters[1]["viewers"]}
    assert by_viewer["dave"]["dropped"] > 50 and by_viewer[carol]["dropped"] == 0

    # the slow viewer reads again: every chat arrives, in order, and some of the frames
    slow._reader = asyncio.create_task(slow._read())
    await eventually(
        lambda: (
            [n["text"] for n in slow.notices if n["type"] == "chat"]
            == [f"chat {n}" for n in range(0, 150, 10)]
        ),
        what="all the chat to the slow viewer",
    )
    assert 0 < len(slow.frames) < 100


async def test_s4_the_controllers_open_socket_keeps_its_console_without_heartbeats(
    relay: MediaRelay, sessions: Sessions, session_svc: SessionService
) -> None:
    """Issue 14.7: S4 says a heartbeat *or an open live connection*. With a grace of 2 s and no
    heartbeat, the session whose controller's socket is open stays; the one whose controller
    only has a customer connected ends ``console_closed``, and so does the first once its
    controller's socket closes."""
    site = (await sessions("GetSiteSettings", "root"))["site"]
    await sessions("ChangeSiteSettings", "root", settings={**site, "console_grace_seconds": 2})
    kept, lapsing = await sessions.start("alice"), await sessions.start("bob")
    customer = await sessions.customer(lapsing, "Carol")
    alice = await Peer.connect(relay.port, kept, "alice")
    carol = await Peer.connect(relay.port, lapsing, customer)
    watch = ConsoleWatch(session_svc.handlers)
    await asyncio.sleep(3.5)
    assert await watch.sweep() == [UUID(lapsing)]
    await alice.close()
    await carol.close()
    await asyncio.sleep(3.5)
    assert await watch.sweep() == [UUID(kept)]
