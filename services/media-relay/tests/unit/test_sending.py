"""A viewer's send queue (M4): share and video frames are dropped past the limit, chat and file
chunks never; what an ended activity left waiting is purged; a hopeless backlog closes."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from media_relay.sending import Closing, TooFarBehind, ViewerQueue


async def drain(queue: ViewerQueue) -> list[str | bytes]:
    out = []
    while len(queue):
        out.append(await queue.get())
    return out


async def test_m4_frames_past_the_limit_are_dropped_and_counted_chat_never() -> None:
    queue = ViewerQueue(lossy_limit=3)
    for n in range(10):
        queue.put(f"frame {n}".encode(), lossy=True)
        queue.put(f"chat {n}")

    sent = await drain(queue)

    assert [m for m in sent if isinstance(m, str)] == [f"chat {n}" for n in range(10)]
    assert [m for m in sent if isinstance(m, bytes)] == [b"frame 0", b"frame 1", b"frame 2"]
    assert (queue.dropped, queue.sent) == (7, 13)


async def test_m4_room_for_frames_comes_back_as_the_viewer_catches_up() -> None:
    queue = ViewerQueue(lossy_limit=2)
    queue.put(b"a", lossy=True)
    queue.put(b"b", lossy=True)
    assert await queue.get() == b"a"
    queue.put(b"c", lossy=True)
    queue.put(b"d", lossy=True)
    assert await drain(queue) == [b"b", b"c"]
    assert queue.dropped == 1


async def test_m3_what_an_ended_activity_left_waiting_is_not_delivered() -> None:
    queue = ViewerQueue()
    ended, other = uuid4(), uuid4()
    queue.put(b"old 1", lossy=True, activity_id=ended)
    queue.put("chat", activity_id=other)
    queue.put(b"chunk", activity_id=ended)
    assert queue.purge(ended) == 2
    queue.put(b"new", lossy=True, activity_id=other)
    assert await drain(queue) == ["chat", b"new"]
    assert (queue.lossy_waiting, queue.reliable_bytes) == (0, 0)


async def test_a_viewer_too_far_behind_on_chat_and_files_is_closed_not_grown_without_end() -> None:
    queue = ViewerQueue(reliable_limit_bytes=100)
    queue.put("x" * 60)
    with pytest.raises(TooFarBehind):
        queue.put("y" * 60)
    queue.abort(4008, "too far behind")
    with pytest.raises(Closing) as closing:
        await queue.get()
    assert closing.value.code == 4008


async def test_close_after_sends_what_waits_first_and_takes_nothing_more() -> None:
    queue = ViewerQueue()
    queue.put("last words")
    queue.close_after(4001, "the session ended")
    queue.put("too late")
    assert await queue.get() == "last words"
    with pytest.raises(Closing):
        await queue.get()


async def test_a_waiting_writer_wakes_for_a_message() -> None:
    queue = ViewerQueue()
    getting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put("hello")
    assert await asyncio.wait_for(getting, 1) == "hello"
