"""M3 through the relay: what ends a running activity (a transfer of control, a switch of the
active customer, a hand-off, the end) closes it for everyone, and says why."""

from __future__ import annotations

import pytest

from media_relay.bootstrap import MediaRelay
from support_testkit.waiting import eventually

from .peers import Peer, Sessions, gather

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("voice_supported", [True, False])
async def test_m3_s8_a_transfer_of_control_ends_every_activity_and_says_why(
    relay: MediaRelay, sessions: Sessions, voice_supported: bool
) -> None:
    dave_system = {"session_mode": "single", "is_webacd_agent": False}
    await sessions(
        "ChangeCsrSettings",
        "dave",
        csr_id="dave",
        settings={**dave_system, "voice_supported": voice_supported},
    )
    session, _carol, alice, carol_peer = await gather(relay.port, sessions, assistant="dave")
    dave = await Peer.connect(relay.port, session, "dave")
    sharing = (await alice.request(type="start", kind="desktop_sharing"))["activity_id"]
    voice = (await alice.request(type="start", kind="voice"))["activity_id"]

    await sessions("TransferControl", "alice", session_id=session, to_csr="dave")

    for peer in (alice, carol_peer, dave):
        moved = await peer.expect("control_transferred")
        assert (moved["from"], moved["to"]) == ("alice", "dave")
        ended = await peer.expect("activity_ended", lambda n: n["activity_id"] == sharing)
        assert ended["reason"] == "control_transferred"
    # the call goes on only if dave's system supports voice
    assert moved["voice_continues"] is voice_supported
    voice_notices = [n["type"] for n in carol_peer.notices if n.get("activity_id") == voice]
    assert voice_notices == ["activity_started"] + ([] if voice_supported else ["activity_ended"])
    await alice.share(sharing, b"too late")
    assert (await alice.expect("error"))["code"] == "not_running"
    # the former controller watches as an assistant; the new one may start sharing
    again = await dave.request(type="start", kind="desktop_sharing")
    await dave.share(again["activity_id"], b"dave's screen")
    await eventually(lambda: alice.payloads() == [b"dave's screen"], what="alice watches")
    # what alice sent too late would be ahead of dave's screen: carol got only the latter
    await eventually(lambda: carol_peer.payloads() == [b"dave's screen"], what="carol watches")


async def test_m3_s5_switching_the_active_customer_ends_the_sharing(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session = await sessions.start("alice")
    carol = await sessions.customer(session, "Carol")
    erin = await sessions.customer(session, "Erin")
    alice = await Peer.connect(relay.port, session, "alice")
    erin_peer = await Peer.connect(relay.port, session, erin)
    sharing = (await alice.request(type="start", kind="application_sharing"))["activity_id"]

    await sessions("SelectActiveCustomer", "alice", session_id=session, participant_id=erin)

    ended = await erin_peer.expect("activity_ended")
    assert (ended["activity_id"], ended["reason"]) == (sharing, "active_customer_changed")
    assert (await erin_peer.expect("active_customer"))["participant_id"] == erin
    assert carol != erin


async def test_m3_a_hand_off_closes_the_former_controller_and_an_end_closes_everyone(
    relay: MediaRelay, sessions: Sessions
) -> None:
    agent = {"session_mode": "single", "is_webacd_agent": True, "voice_supported": True}
    for csr in ("alice", "zoe"):  # S9: WebACD agents, the one handing off and the one named
        await sessions("ChangeCsrSettings", "admin", csr_id=csr, settings=agent)
    session, carol, alice, carol_peer = await gather(relay.port, sessions)
    chat = (await alice.request(type="start", kind="chat"))["activity_id"]

    await sessions("HandOffToAgents", "alice", session_id=session, agent_ids=["zoe"])

    assert (await alice.closed_with())[0] == 4000
    assert (await alice.expect("left"))["reason"] == "handed_off"
    assert (await carol_peer.expect("activity_ended"))["activity_id"] == chat
    assert (await carol_peer.expect("handed_off"))["by"] == "alice"
    assert carol_peer.closed is None  # the customer waits for an agent, still connected
    await sessions("Leave", carol, session_id=session, participant_id=carol)
    assert (await carol_peer.expect("session_ended"))["reason"] == "withdrawn"  # nobody waits
    assert (await carol_peer.closed_with())[0] == 4001

    second = await sessions.start("bob")
    erin = await sessions.customer(second, "Erin")
    bob, erin_peer = await Peer.connect(relay.port, second, "bob"), None
    erin_peer = await Peer.connect(relay.port, second, erin)
    await sessions("EndSession", "bob", session_id=second)
    for peer in (bob, erin_peer):
        assert (await peer.expect("session_ended"))["reason"] == "ended_by_controller"
        assert (await peer.closed_with()) == (4001, "the session ended")
