"""The peer of the relay benchmark: the relay most tutorials show. One room; whatever a client
sends goes to every other client, each ``await ws.send(...)`` in turn, with no queue of its own
per viewer. No tokens, no checks: it does less work than ours per frame.

Usage: python bench/relay/naive.py PORT
"""

from __future__ import annotations

import sys

import uvloop
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

clients: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    clients.add(ws)
    try:
        async for message in ws:
            for other in list(clients):
                if other is not ws:
                    try:
                        await other.send(message)
                    except ConnectionClosed:
                        pass
    except ConnectionClosed:
        pass
    finally:
        clients.discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**21) as server:
        print("listening", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
