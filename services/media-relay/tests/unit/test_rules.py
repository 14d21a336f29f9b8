"""M2, the relay's rules alone (``media_relay.domain.rules``): a frame only for a running
activity of its kind; a share only from whoever shares; video and files only from the
controller or the active customer."""

from __future__ import annotations

from uuid import uuid4

import pytest

from media_relay.domain.rules import may_send
from media_relay.domain.state import Activity, SessionView
from media_relay.frames import Frame, FrameKind
from support_contracts.refusals import Refusal
from support_contracts.vocabulary import ActivityKind, Role

SHARE, VIDEO = uuid4(), uuid4()


def session() -> SessionView:
    return SessionView(
        id=uuid4(),
        controller="alice",
        active_customer="bob",
        participants={"alice": Role.CONTROLLER, "bob": Role.CUSTOMER, "carol": Role.ASSISTANT},
        activities={
            SHARE: Activity(SHARE, ActivityKind.DESKTOP_SHARING, "bob"),
            VIDEO: Activity(VIDEO, ActivityKind.VIDEO, "alice"),
        },
    )


def frame(kind: FrameKind, activity_id: object) -> Frame:
    return Frame(kind, activity_id, {}, memoryview(b""))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sender", "kind", "activity", "refused"),
    [
        ("bob", FrameKind.SHARE, SHARE, None),  # the sharer's own screen
        ("alice", FrameKind.SHARE, SHARE, "not_allowed"),  # a share only from whoever shares
        ("alice", FrameKind.VIDEO, VIDEO, None),
        ("bob", FrameKind.VIDEO, VIDEO, None),  # the active customer too
        ("carol", FrameKind.VIDEO, VIDEO, "not_allowed"),  # an assistant does not send video
        ("alice", FrameKind.VIDEO, SHARE, "not_running"),  # a frame of another kind's activity
        ("alice", FrameKind.FILE, uuid4(), "not_running"),  # no such activity
    ],
)
def test_m2_who_may_send_what(
    sender: str, kind: FrameKind, activity: object, refused: str | None
) -> None:
    if refused is None:
        may_send(session(), sender, frame(kind, activity))
        return
    with pytest.raises(Refusal) as refusal:
        may_send(session(), sender, frame(kind, activity))
    assert refusal.value.code == refused
