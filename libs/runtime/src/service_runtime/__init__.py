"""Running a service process: the service started (on its ``host.Host``), its ops port, and the
process kept until SIGTERM or SIGINT (Kubernetes' way of asking a pod to stop)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Protocol

import uvloop
from pydantic import ValidationError

from service_runtime.logs import configure_json_logs
from service_runtime.ops import OpsServer, Readiness, Refresh
from service_runtime.tracing import configure_tracing

__all__ = ["OpsServer", "Readiness", "Refresh", "configure_json_logs", "serve"]


class Service(Protocol):
    async def stop(self) -> None: ...

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        """Its readiness checks, and the gauges to refresh before a scrape."""
        ...


def serve(start: Callable[[], Awaitable[Service]]) -> None:
    """A service's ``__main__``: JSON logs, start, health/readiness/metrics on ``OPS_PORT``
    (9090; ``OPS_HOST`` 0.0.0.0), run until SIGTERM or SIGINT, then: not ready at once (so
    Kubernetes sends no new requests), stop taking work, finish what is in hand, exit."""

    async def main() -> None:
        configure_json_logs()
        tracing = configure_tracing(_service_name())
        # before the service takes work: a SIGTERM while its ops port starts stops it cleanly
        # (it was the default action, a kill, for those few milliseconds)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        service = await start()
        readiness, refresh = service.ops()
        ops = OpsServer(readiness, refresh)
        await ops.start(
            os.environ.get("OPS_HOST", "0.0.0.0"), int(os.environ.get("OPS_PORT", "9090"))
        )
        await stopping.wait()
        ops.stopping = True
        await service.stop()
        await ops.stop()
        if tracing is not None:
            tracing.shutdown()  # what is batched goes out

    try:
        uvloop.run(main())
    except ValidationError as error:  # its settings, from the environment: say which, and why
        if error.title != "Settings":  # every service's settings class; anything else: a bug
            raise
        raise SystemExit(settings_problem(_service_name(), error)) from None


def _service_name() -> str:
    spec = getattr(sys.modules["__main__"], "__spec__", None)  # python -m <service>
    return spec.parent if spec and spec.parent else "support-center"


def settings_problem(service: str, error: ValidationError) -> str:
    """One line for settings that are not valid, naming each variable and what it must be
    (issue 14.12: not a traceback)."""
    problems = "; ".join(
        f"{'_'.join(str(p) for p in e['loc']).upper() or '?'}: {e['msg']}" for e in error.errors()
    )
    return f"{service}: not started, its settings are not valid: {problems}"
