"""``python -m invite_svc``: run until SIGTERM or SIGINT, then stop cleanly."""

from __future__ import annotations

import asyncio
import signal

import uvloop

from eventlog.logs import configure_json_logs
from invite_svc.bootstrap import start
from invite_svc.settings import Settings


async def main() -> None:
    configure_json_logs()
    service = await start(Settings())
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await service.stop()


if __name__ == "__main__":
    uvloop.run(main())
