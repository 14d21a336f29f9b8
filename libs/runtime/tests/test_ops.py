"""The ops port every service process has (E3): alive, ready only when every check passes
(and not once it is stopping), metrics, and nothing else."""

from __future__ import annotations

import asyncio
import json

from prometheus_client import Counter

from service_runtime.ops import OpsServer, Readiness
from support_testkit.processes import http_get

PROBED = Counter("test_ops_probed_total", "A metric of the test's own")


async def get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    status, _, body = await http_get(port, path, method=method)
    return status, body.decode()


async def test_e3_ready_only_while_every_check_passes_and_not_while_stopping() -> None:
    broken = {"yes": False}
    refreshed = []

    async def database() -> None:
        if broken["yes"]:
            raise ConnectionError("the database does not answer")

    async def hangs() -> None:
        await asyncio.sleep(60)

    async def refresh() -> None:
        refreshed.append(1)
        PROBED.inc()

    ops = await OpsServer([Readiness("database", database)], [refresh], check_seconds=0.2).start(
        "127.0.0.1", 0
    )
    try:
        assert await get(ops.port, "/healthz") == (200, '{"alive": true}')
        assert (await get(ops.port, "/readyz"))[0] == 200
        broken["yes"] = True
        status, body = await get(ops.port, "/readyz")
        assert status == 503
        assert json.loads(body)["failed"] == {
            "database": "ConnectionError: the database does not answer"
        }
        broken["yes"] = False
        ops.stopping = True
        status, body = await get(ops.port, "/readyz")
        assert status == 503 and "stopping" in json.loads(body)["failed"]
        status, metrics = await get(ops.port, "/metrics")
        assert status == 200 and "test_ops_probed_total 1.0" in metrics and refreshed == [1]
        assert (await get(ops.port, "/elsewhere"))[0] == 404
        assert (await get(ops.port, "/healthz", "POST"))[0] == 405
    finally:
        await ops.stop()

    slow = await OpsServer([Readiness("broker", hangs)], check_seconds=0.1).start("127.0.0.1", 0)
    try:
        status, body = await get(slow.port, "/readyz")  # a check that hangs fails in time
        assert status == 503 and "TimeoutError" in json.loads(body)["failed"]["broker"]
    finally:
        await slow.stop()
