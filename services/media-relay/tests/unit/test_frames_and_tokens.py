"""The frame header the relay reads (and checks for file chunks), and participant tokens."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest

from media_relay import frames
from media_relay.frames import BadFrame, FrameKind
from service_runtime.participant_tokens import InvalidParticipantToken, mint, verify

SECRET = "a-secret-of-thirty-two-characters!"


def test_a_frame_round_trips_and_the_relay_stamps_sender_and_sequence() -> None:
    activity = uuid4()
    frame = frames.parse(frames.encode({"kind": "video", "activity_id": str(activity)}, b"\x00pic"))
    assert (frame.kind, frame.activity_id, bytes(frame.payload)) == (
        FrameKind.VIDEO,
        activity,
        b"\x00pic",
    )
    out = frames.parse(frames.forwarded(frame, "alice", 7))
    assert (out.header["from"], out.header["seq"], bytes(out.payload)) == ("alice", 7, b"\x00pic")


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\x00",
        b"\xff\xff{}",  # a header longer than the frame
        frames.encode({"kind": "smell", "activity_id": str(uuid4())}, b""),
        frames.encode({"kind": "share"}, b""),
        frames.encode({"kind": "share", "activity_id": "nope"}, b""),
        b"\x00\x02[]",
    ],
)
def test_a_frame_the_relay_cannot_read_is_refused(message: bytes) -> None:
    with pytest.raises(BadFrame):
        frames.parse(message)


def test_a_file_chunk_needs_name_offset_and_a_matching_checksum() -> None:
    activity = uuid4()
    good = frames.file_chunk(activity, "log.txt", 10, b"data")
    assert frames.parse(good).header["offset"] == 10
    with pytest.raises(BadFrame, match="sha256"):
        frames.parse(good[:-1] + b"X")
    digest = frames.parse(good).header["sha256"]
    for bad in ({"name": "", "offset": 0}, {"name": "a", "offset": -1}, {"name": "a"}):
        header = {"kind": "file", "activity_id": str(activity), "sha256": digest, **bad}
        with pytest.raises(BadFrame, match="name"):
            frames.parse(frames.encode(header, b"data"))


def test_only_share_and_video_frames_may_be_dropped() -> None:
    assert FrameKind.SHARE.lossy and FrameKind.VIDEO.lossy and not FrameKind.FILE.lossy


def test_a_participant_token_names_its_participant_and_session() -> None:
    session = uuid4()
    claim = verify(SECRET, mint(SECRET, "carol", session, ttl_seconds=60))
    assert (claim.participant_id, claim.session_id) == ("carol", session)


def test_an_expired_tampered_or_foreign_token_is_refused() -> None:
    session = uuid4()
    issued = time.time()
    token = mint(SECRET, "carol", session, ttl_seconds=60, now=issued)
    assert verify(SECRET, token, now=issued + 59).participant_id == "carol"
    with pytest.raises(InvalidParticipantToken, match="expired"):
        verify(SECRET, token, now=issued + 60)
    with pytest.raises(InvalidParticipantToken):
        verify("another-secret-of-thirty-two-chars", token)
    with pytest.raises(InvalidParticipantToken):
        verify(SECRET, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    with pytest.raises(InvalidParticipantToken):
        verify(SECRET, "not.a.token")
