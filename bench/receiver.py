"""A fast local webhook receiver for the benchmark (aiohttp, one process, 127.0.0.1 only).

Every POST is answered 200 (or after a delay / never, per path), and its arrival time is kept against the
event id header, so the benchmark can compute delivery latency. GET /stats returns counters; POST /reset
clears them.

    python bench/receiver.py PORT
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiohttp import web

HOSTS = 11
ARRIVALS: dict[str, float] = {}
COUNTS = {"requests": 0, "healthy": 0, "hanging": 0}


async def hook(request: web.Request) -> web.Response:
    await request.read()
    COUNTS["requests"] += 1
    COUNTS["healthy"] += 1
    event_id = request.headers.get("X-Dispatcher-Event-Id")
    if event_id and event_id not in ARRIVALS:
        ARRIVALS[event_id] = time.time()
    return web.Response(text="ok")


async def slow(request: web.Request) -> web.Response:
    """Answers after ?ms= milliseconds, like a real receiver doing work."""
    await request.read()
    COUNTS["requests"] += 1
    COUNTS["healthy"] += 1
    await asyncio.sleep(int(request.query.get("ms", "200")) / 1000)
    return web.Response(text="ok")


async def hang(request: web.Request) -> web.Response:
    """Never answers: the dispatcher's time limit ends it."""
    await request.read()
    COUNTS["hanging"] += 1
    await asyncio.sleep(3600)
    return web.Response(text="too late")


async def stats(_request: web.Request) -> web.Response:
    return web.json_response({**COUNTS, "arrivals": ARRIVALS})


async def reset(_request: web.Request) -> web.Response:
    ARRIVALS.clear()
    for key in COUNTS:
        COUNTS[key] = 0
    return web.json_response({"ok": True})


def main() -> None:
    port = int(sys.argv[1])
    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes(
        [
            web.post(r"/hook/{name:.*}", hook),
            web.post(r"/slow/{name:.*}", slow),
            web.post(r"/hang/{name:.*}", hang),
            web.get("/stats", stats),
            web.post("/reset", reset),
        ]
    )
    # Every receiver host of a run (127.0.0.1 to 127.0.0.11, all loopback): ten receivers are ten hosts, as they
    # would be in production, each with its own share of a worker (DISPATCHER_HOST_CONCURRENCY).
    hosts = [f"127.0.0.{n}" for n in range(1, HOSTS + 1)]
    web.run_app(app, host=hosts, port=port, access_log=None, print=None, backlog=1024)


if __name__ == "__main__":
    main()
