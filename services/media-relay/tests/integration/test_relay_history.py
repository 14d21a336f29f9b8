"""Issue 13: a relay that keeps no ended session in its view (``ENDED_SESSIONS_KEPT=0``) still
answers for one from its log: a customer of the ended session is told it ended (409, M1), and
its last controller still reads its recordings while nobody else may."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from media_relay.bootstrap import MediaRelay
from support_testkit.waiting import eventually

from .peers import Sessions, http_get, token
from .test_relay import refused

pytestmark = pytest.mark.integration


@pytest.fixture
def relay_overrides() -> dict[str, Any]:
    return {"ended_sessions_kept": 0}


async def test_an_ended_session_the_view_let_go_is_answered_from_the_log(
    relay: MediaRelay, sessions: Sessions
) -> None:
    session = await sessions.start("alice")
    carol = await sessions.customer(session, "Carol")
    await eventually(lambda: UUID(session) in relay.view.sessions, what="the relay hears of it")
    await sessions("EndSession", "alice", session_id=session)
    await eventually(lambda: UUID(session) not in relay.view.sessions, what="the view lets go")
    assert (await refused(relay.port, session, token(carol, session)))[0] == 409
    base = f"http://127.0.0.1:{relay.port}/v1/sessions/{session}/recordings"
    assert await http_get(base, token("alice", session)) == (200, {"recordings": []})
    assert (await http_get(base, token(carol, session)))[0] == 403
