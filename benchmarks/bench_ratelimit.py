"""Benchmark: bulk chart creation against a rate-limited server, with and without pacing.

200 chart creations (``POST /v3/charts``) by 8 workers against a loopback
:class:`~datawrapper.testing.FakeServer` whose app is ``rate_limited(FakeDatawrapperAPI(),
rate=10, burst=20)``, in three scenarios:

- ``retry-only``: the default :class:`~datawrapper.RetryPolicy`, no rate limiter;
- ``adaptive``: an :class:`~datawrapper.AdaptiveRateLimiter` shared by the 8 threads;
- ``redis``: 4 processes of 2 threads, all sharing one
  ``RedisRateLimiter(rate=10, burst=20)`` (a throw-away ``redis-server`` is started).

``adaptive-no-headers`` (the server sends only Retry-After) can be added with
``--scenario``. Per scenario it reports created charts, failed creations, wall time,
goodput (created charts per second) as a percentage of the server's limit, total requests
and 429 responses. Goodput can exceed 100% of the limit because the burst comes on top of the
rate (the shortest possible run is ``(creations - burst) / rate``, 18 s by default, reported
as ``ideal_wall_s``); a run that gives up early (retry-only) is short, so compare its
``failed`` column first. Import :func:`bench_ratelimit` to get the results as dicts, or run::

    python benchmarks/bench_ratelimit.py [--creations 200] [--json]
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from datawrapper import Datawrapper, PoolConfig
from datawrapper._ratelimit import AdaptiveRateLimiter, RateLimiter, RedisRateLimiter
from datawrapper.testing import FakeDatawrapperAPI, FakeServer
from datawrapper.testing._ratelimit import RedisServer, rate_limited

TOKEN = "bench-token"
SCENARIOS = ("retry-only", "adaptive", "redis")
ALL_SCENARIOS = (*SCENARIOS, "adaptive-no-headers")


def _csv(size: int) -> str:
    rows = ["country,value"]
    i = 0
    while sum(len(r) + 1 for r in rows) < size:
        rows.append(f"country-{i},{i * 7 % 1000}")
        i += 1
    return "\n".join(rows) + "\n"


def _create_many(
    client: Datawrapper, count: int, threads: int, data: str | None, label: str
) -> tuple[int, collections.Counter[str]]:
    """Create ``count`` charts with ``threads`` workers; (created, failures by exception)."""
    failures: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    created = 0

    def one(i: int) -> None:
        nonlocal created
        try:
            client.create_chart(title=f"{label} {i}", chart_type="d3-bars", data=data)
        except Exception as exc:
            with lock:
                failures[type(exc).__name__] += 1
        else:
            with lock:
                created += 1

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(count)))
    return created, failures


def _client(base_url: str, threads: int, limiter: RateLimiter | None) -> Datawrapper:
    return Datawrapper(
        TOKEN,
        base_url=base_url,
        pool=PoolConfig(max_connections=max(threads, 1), max_keepalive_connections=max(threads, 1)),
        rate_limiter=limiter,
    )


def _process_worker(
    base_url: str,
    redis_url: str,
    key: str,
    rate: float,
    burst: float,
    threads: int,
    count: int,
    data: str | None,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    """One process of the ``redis`` scenario: waits for ``start``, reports to ``results``."""
    limiter = RedisRateLimiter(redis_url, key=key, rate=rate, burst=burst)
    with _client(base_url, threads, limiter) as client:
        ready.set()
        start.wait(60)
        created, failures = _create_many(client, count, threads, data, "redis")
    limiter.close()
    results.put((created, dict(failures)))


def _run_redis(
    base_url: str,
    *,
    creations: int,
    processes: int,
    threads: int,
    rate: float,
    burst: float,
    data: str | None,
    redis_url: str | None,
) -> tuple[int, collections.Counter[str], float]:
    server: RedisServer | None = None
    if redis_url is None:
        server = RedisServer().start()
        redis_url = server.url
    try:
        ctx = multiprocessing.get_context("spawn")
        start = ctx.Event()
        results = ctx.Queue()
        key = f"bench:{uuid.uuid4().hex}"
        shares = [creations // processes + (i < creations % processes) for i in range(processes)]
        readies = [ctx.Event() for _ in shares]
        procs = [
            ctx.Process(
                target=_process_worker,
                args=(base_url, redis_url, key, rate, burst, threads, n, data, r, start, results),
            )
            for n, r in zip(shares, readies, strict=True)
        ]
        for proc in procs:
            proc.start()
        for ready in readies:
            if not ready.wait(60):
                raise RuntimeError("a benchmark process did not start within 60 s")
        began = time.perf_counter()
        start.set()
        created = 0
        failures: collections.Counter[str] = collections.Counter()
        for _ in procs:
            got, failed = results.get(timeout=600)
            created += got
            failures.update(failed)
        wall = time.perf_counter() - began
        for proc in procs:
            proc.join(30)
        return created, failures, wall
    finally:
        if server is not None:
            server.stop()


def run_scenario(
    scenario: str,
    *,
    creations: int = 200,
    threads: int = 8,
    processes: int = 4,
    rate: float = 10.0,
    burst: float = 20.0,
    with_data: bool = False,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """Run one scenario against a fresh rate-limited fake server; return its figures."""
    if scenario not in ALL_SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: use one of {', '.join(ALL_SCENARIOS)}")
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    app = rate_limited(api, rate=rate, burst=burst, send_headers=scenario != "adaptive-no-headers")
    data = _csv(2048) if with_data else None
    per_creation = 2 if with_data else 1
    limit_rate = rate / per_creation  # creations per second the server allows on average
    with FakeServer(app) as server:
        if scenario == "redis":
            created, failures, wall = _run_redis(
                server.url,
                creations=creations,
                processes=processes,
                threads=max(threads // processes, 1),
                rate=rate,
                burst=burst,
                data=data,
                redis_url=redis_url,
            )
            workers = f"{processes} processes x {max(threads // processes, 1)} threads"
        else:
            limiter = None if scenario == "retry-only" else AdaptiveRateLimiter()
            with _client(server.url, threads, limiter) as client:
                began = time.perf_counter()
                created, failures = _create_many(client, creations, threads, data, scenario)
                wall = time.perf_counter() - began
            workers = f"{threads} threads"
        requests = app.allowed + app.rejected
        rejected = app.rejected
    goodput = created / wall if wall > 0 else 0.0
    return {
        "scenario": scenario,
        "workers": workers,
        "creations": creations,
        "created": created,
        "failed": creations - created,
        "failures": dict(failures),
        "server_charts": api.created_count,
        "wall_s": round(wall, 2),
        "goodput_per_s": round(goodput, 2),
        "limit_per_s": limit_rate,
        # The shortest possible run: the burst at once, then the rest at the server's rate.
        "ideal_wall_s": round(max(creations * per_creation - burst, 0) / rate, 2),
        "goodput_pct_of_limit": round(100.0 * goodput / limit_rate, 1),
        "requests": requests,
        "429s": rejected,
        "429_pct": round(100.0 * rejected / requests, 1) if requests else 0.0,
    }


def bench_ratelimit(
    *,
    scenarios: Sequence[str] = SCENARIOS,
    creations: int = 200,
    threads: int = 8,
    processes: int = 4,
    rate: float = 10.0,
    burst: float = 20.0,
    with_data: bool = False,
    redis_url: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the scenarios one after the other; return one dict of figures per scenario.

    The ``redis`` scenario starts a throw-away ``redis-server`` unless ``redis_url`` is
    given, and is reported with ``"skipped"`` when neither is available.
    """
    results = []
    for scenario in scenarios:
        if scenario == "redis" and redis_url is None and RedisServer.find() is None:
            result: dict[str, Any] = {
                "scenario": scenario,
                "skipped": "redis-server is not installed (apt-get install redis-server)",
            }
        else:
            result = run_scenario(
                scenario,
                creations=creations,
                threads=threads,
                processes=processes,
                rate=rate,
                burst=burst,
                with_data=with_data,
                redis_url=redis_url,
            )
        if progress is not None:
            progress(result)
        results.append(result)
    return results


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| scenario | workers | created | failed | wall (s) | goodput (/s) | % of limit "
        "| requests | 429s | 429 % |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['scenario']} | skipped: {r['skipped']} |||||||||")
            continue
        lines.append(
            f"| {r['scenario']} | {r['workers']} | {r['created']} | {r['failed']} | "
            f"{r['wall_s']} | {r['goodput_per_s']} | {r['goodput_pct_of_limit']} | "
            f"{r['requests']} | {r['429s']} | {r['429_pct']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creations", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8, help="workers in total")
    parser.add_argument("--processes", type=int, default=4, help="processes of 'redis'")
    parser.add_argument("--rate", type=float, default=10.0, help="server limit, requests/s")
    parser.add_argument("--burst", type=float, default=20.0, help="server burst")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=ALL_SCENARIOS,
        help="run only these (repeatable); default: " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--with-data", action="store_true", help="upload 2 KB CSV per chart")
    parser.add_argument("--redis-url", help="use this Redis instead of starting redis-server")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    def show(result: dict[str, Any]) -> None:
        if not args.json:
            print(json.dumps(result), file=sys.stderr, flush=True)

    results = bench_ratelimit(
        scenarios=args.scenario or SCENARIOS,
        creations=args.creations,
        threads=args.threads,
        processes=args.processes,
        rate=args.rate,
        burst=args.burst,
        with_data=args.with_data,
        redis_url=args.redis_url,
        progress=show,
    )
    print(json.dumps(results, indent=2) if args.json else format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
