"""Who may send what through the relay (M2), pure: on a session as the relay folded it."""

from __future__ import annotations

from media_relay import frames
from media_relay.domain.state import SessionView
from media_relay.frames import FrameKind
from support_contracts.refusals import Refusal


def may_send(session: SessionView, sender: str, frame: frames.Frame) -> None:
    """M2: frames only for a running activity of their kind; a share only from whoever
    shares; video and files from the controller or the active customer."""
    activity = session.activities.get(frame.activity_id)
    if activity is None or activity.kind not in frames.ACTIVITIES[frame.kind]:
        raise Refusal(
            409,
            "not_running",
            f"no {frame.kind.value} activity {frame.activity_id} is running in this session",
        )
    if frame.kind is FrameKind.SHARE and sender != activity.started_by:
        raise Refusal(403, "not_allowed", "only the participant who shares sends its frames")
    if frame.kind is not FrameKind.SHARE and sender not in (
        session.controller,
        session.active_customer,
    ):
        raise Refusal(
            403,
            "not_allowed",
            f"only the controller or the active customer sends {frame.kind.value} frames",
        )
