"""Recording storage (M2): records in order, a manifest at the end, a recording resumed after a
restart counted whole, and a record cut short by a crash ignored."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

from media_relay.recording import RecordingStorage, read_records, recording_id_of


async def test_a_recording_keeps_text_and_frames_in_order_with_a_manifest(tmp_path: Path) -> None:
    storage = RecordingStorage(tmp_path)
    session, activity = uuid4(), uuid4()
    recorder = storage.start(session, activity)
    recorder.write('{"type":"chat","text":"hi"}')
    recorder.write(b"\x00\x01frame")
    manifest = recorder.finish("stopped")
    assert await storage.keep(recorder) == recorder.directory.as_uri()

    recording = recording_id_of(activity)
    assert await storage.manifest(session, recording) == manifest
    assert (manifest["frames"], manifest["end_reason"]) == (2, "stopped")
    stream = await storage.stream(session, recording)
    assert stream is not None and manifest["bytes"] == len(stream)
    assert [r.message for r in read_records(stream)] == [
        '{"type":"chat","text":"hi"}',
        b"\x00\x01frame",
    ]
    assert storage.unfinished(session, activity) is None  # finished: nothing to resume


def test_a_recording_begun_before_a_restart_is_resumed_and_counted_whole(tmp_path: Path) -> None:
    storage = RecordingStorage(tmp_path)
    session, activity = uuid4(), uuid4()
    storage.start(session, activity).write("before")  # the relay stops here, unfinished
    assert storage.unfinished(uuid4(), activity) is None

    resumed = storage.unfinished(session, activity)
    assert resumed is not None
    resumed.write("after")
    manifest = resumed.finish("session_ended")
    assert manifest["frames"] == 2
    on_disk = json.loads((resumed.directory / "manifest.json").read_text())
    assert on_disk["sha256"] == manifest["sha256"]


async def test_a_record_cut_short_ends_the_playback_without_an_error(tmp_path: Path) -> None:
    storage = RecordingStorage(tmp_path)
    session, activity = uuid4(), uuid4()
    recorder = storage.start(session, activity)
    recorder.write("whole")
    recorder.write("cut short")
    stream = await storage.stream(session, recording_id_of(activity))
    assert stream is not None
    assert [r.message for r in read_records(stream[:-3])] == ["whole"]
