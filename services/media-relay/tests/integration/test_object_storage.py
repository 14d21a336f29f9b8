"""Recordings kept in an S3 bucket where one is configured (M2): written to the spool while the
recording runs, uploaded when it ends, listed and fetched from the bucket. The bucket is a real
S3 endpoint on loopback (moto's server), reached by boto3 over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import boto3
import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from media_relay import frames
from media_relay.bootstrap import MediaRelay
from media_relay.recording import read_records
from support_testkit.waiting import eventually

from .peers import Sessions, gather, http_get, recordings, token

pytestmark = pytest.mark.integration

BUCKET = "recordings"


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "relay")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "relay-secret")
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def relay_overrides(s3_endpoint: str) -> dict[str, Any]:
    """The relay of these tests keeps finished recordings in the bucket."""
    return {"recordings_bucket": BUCKET, "recordings_s3_endpoint": s3_endpoint}


async def test_m2_a_finished_recording_goes_to_the_bucket_and_is_fetched_from_it(
    relay: MediaRelay, sessions: Sessions, s3_endpoint: str, tmp_path: Path
) -> None:
    session, _carol, alice, carol_peer = await gather(relay.port, sessions)
    sharing = (await alice.request(type="start", kind="desktop_sharing"))["activity_id"]
    recording = (await alice.request(type="start", kind="recording"))["activity_id"]
    await alice.share(sharing, b"a picture")
    await eventually(lambda: carol_peer.payloads() == [b"a picture"], what="the frame")
    await sessions("EndSession", "alice", session_id=session)  # ends the recording too

    base = f"http://127.0.0.1:{relay.port}/v1/sessions/{session}/recordings"

    # the session ended: its last controller lists its recordings
    [listed] = await eventually(lambda: recordings(base, session), what="the recording")
    prefix = f"{session}/{listed['recording_id']}"
    assert (listed["activity_id"], listed["location"]) == (recording, f"s3://{BUCKET}/{prefix}/")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {f"{prefix}/stream.bin", f"{prefix}/manifest.json"}
    manifest = json.loads(
        s3.get_object(Bucket=BUCKET, Key=f"{prefix}/manifest.json")["Body"].read()
    )
    assert (manifest["end_reason"], manifest["frames"]) == ("session_ended", 1)
    assert not (tmp_path / "recordings" / session).joinpath(str(listed["recording_id"])).exists()

    status, raw = await http_get(f"{base}/{listed['recording_id']}/stream", token("alice", session))
    assert status == 200
    [record] = read_records(raw)  # type: ignore[arg-type]
    assert frames.parse(record.message).payload == b"a picture"  # type: ignore[arg-type]
    status, body = await http_get(f"{base}/{listed['recording_id']}", token("alice", session))
    assert status == 200 and body == manifest
    assert UUID(str(listed["recording_id"]))
