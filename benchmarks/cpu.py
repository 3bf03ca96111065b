"""CPU cost at RTT 0: what the package's layers add per request on top of the raw library.

Three measurements, all against :mod:`fastserver` over plain HTTP on loopback (no proxy, no
TLS, so the client's own CPU is as large a share of the time as it can be):

1. :func:`per_request`: wall time and process CPU time per ``POST /v3/charts`` (JSON in, JSON
   out) for each raw library, for our backend alone (``transport.send`` of a prepared
   :class:`~datawrapper.transport.Request`) and for the whole client (``create_chart``).
   Runs are interleaved; medians are reported.
2. :func:`layer_costs`: micro-benchmarks of each layer without any network (value types,
   pool bookkeeping, retry engine, hooks, the client method over a null transport).
3. :func:`profile_ours`: a cProfile of the client on one backend, the package's own
   functions ranked by their own time.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import requests
import urllib3
from workloads import TOKEN

from datawrapper import Datawrapper, MockTransport
from datawrapper.transport import (
    Headers,
    PoolConfig,
    Request,
    Response,
    RetryEngine,
    Timeout,
    create_transport,
)
from datawrapper.transport._base import PooledTransport

BODY = {"title": "Chart", "type": "d3-bars"}
AUTH = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "*/*",
    "Content-Type": "application/json",
}


def _check(status: int) -> None:
    if status != 201:
        raise RuntimeError(f"unexpected status {status}")


class _Runner:
    """Makes one call function per flavour against ``url``; ``close()`` releases them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.charts = f"{url}/v3/charts"
        self._closers: list[Callable[[], None]] = []

    def close(self) -> None:
        for close in self._closers:
            close()

    def make(self, flavour: str) -> Callable[[], Any]:
        charts = self.charts
        if flavour in ("raw-requests", "raw-requests-noenv"):
            s = requests.Session()
            # requests reads proxy and netrc settings from the environment on every call
            # unless trust_env is off (as our backend sets it): measure both
            s.trust_env = flavour == "raw-requests"
            self._closers.append(s.close)

            def call() -> Any:
                r = s.post(charts, headers=AUTH, data=json.dumps(BODY), timeout=30)
                _check(r.status_code)
                return r.json()

            return call
        if flavour == "raw-httpx":
            c = httpx.Client(timeout=30)
            self._closers.append(c.close)

            def call() -> Any:
                r = c.post(charts, headers=AUTH, content=json.dumps(BODY))
                _check(r.status_code)
                return r.json()

            return call
        if flavour == "raw-urllib3":
            pm = urllib3.PoolManager(retries=False)
            self._closers.append(pm.clear)
            limits = urllib3.Timeout(connect=5, read=30)

            def call() -> Any:
                r = pm.request(
                    "POST", charts, headers=AUTH, body=json.dumps(BODY).encode(), timeout=limits
                )
                _check(r.status)
                return json.loads(r.data)

            return call
        kind, _, backend = flavour.partition("-")
        if kind == "transport":
            transport = create_transport(backend, pool=PoolConfig())
            self._closers.append(transport.close)
            timeout = Timeout()

            def call() -> Any:
                request = Request("POST", charts, Headers(AUTH), json.dumps(BODY).encode())
                r = transport.send(request, timeout=timeout)
                _check(r.status_code)
                return r.json()

            return call
        client = Datawrapper(TOKEN, base_url=self.url, transport=backend)
        self._closers.append(client.close)

        def call() -> Any:
            return client.create_chart("Chart", "d3-bars")

        return call


FLAVOURS_RTT0 = [
    "raw-requests",
    "raw-requests-noenv",
    "transport-requests",
    "ours-requests",
    "raw-httpx",
    "transport-httpx",
    "ours-httpx",
    "raw-urllib3",
    "transport-urllib3",
    "ours-urllib3",
]


def per_request(
    url: str, *, m: int, runs: int, log: Callable[[str], None] = print
) -> dict[str, dict[str, float]]:
    """Wall and CPU microseconds per request of each flavour.

    Each run times a block of ``m`` calls of every flavour, in a rotated order; the result
    holds the median and the minimum over the runs (the minimum is the least disturbed by
    other processes on the machine).
    """
    runner = _Runner(url)
    try:
        calls = {name: runner.make(name) for name in FLAVOURS_RTT0}
        for call in calls.values():  # warm-up: connection, imports, caches
            for _ in range(200):
                call()
        walls: dict[str, list[float]] = {name: [] for name in calls}
        cpus: dict[str, list[float]] = {name: [] for name in calls}
        names = list(calls)
        for run in range(runs):
            shift = run % len(names)
            for name in names[shift:] + names[:shift]:
                call = calls[name]
                c0, w0 = time.process_time(), time.perf_counter()
                for _ in range(m):
                    call()
                w1, c1 = time.perf_counter(), time.process_time()
                walls[name].append((w1 - w0) / m * 1e6)
                cpus[name].append((c1 - c0) / m * 1e6)
            log(f"  rtt0 run {run + 1}/{runs} done")
        return {
            name: {
                "wall_us": statistics.median(walls[name]),
                "wall_min_us": min(walls[name]),
                "cpu_us": statistics.median(cpus[name]),
                "cpu_min_us": min(cpus[name]),
            }
            for name in names
        }
    finally:
        runner.close()


# --------------------------------------------------------------------------- layers


def _per_call(fn: Callable[[], Any], *, number: int = 5000, repeat: int = 5) -> float:
    """Best-of-``repeat`` microseconds per call of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


class _NullPooled(PooledTransport):
    """The pool bookkeeping of the real backends around a send that does nothing."""

    name = "null"

    def __init__(self, response: Response) -> None:
        super().__init__(pool=PoolConfig())
        self._response = response

    def _send(self, request: Request, timeout: Timeout) -> Response:
        return self._response

    def _close(self) -> None:
        pass


def layer_costs() -> list[tuple[str, float]]:
    """Microseconds per call of each of our layers, without any network."""
    chart = json.dumps({"id": "abcde", "title": "Chart", "type": "d3-bars", "metadata": {}})
    response_pairs = [
        ("Server", "canned"),
        ("Date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(chart))),
        ("Cache-Control", "no-cache"),
        ("Vary", "accept-encoding"),
    ]
    request_pairs = [
        ("Authorization", f"Bearer {TOKEN}"),
        ("Accept", "*/*"),
        ("User-Agent", "datawrapper-python/0.1.0"),
        ("Content-Type", "application/json"),
    ]
    url = "https://api.datawrapper.de/v3/charts"
    body = json.dumps(BODY).encode()
    headers = Headers(request_pairs)
    request = Request("POST", url, headers, body)
    canned = Response(201, Headers(response_pairs), chart.encode(), request=request)
    pooled = _NullPooled(canned)
    timeout = Timeout()
    engine = RetryEngine()
    client = Datawrapper(TOKEN, transport=MockTransport(lambda r: canned))
    hooked = Datawrapper(TOKEN, transport=MockTransport(lambda r: canned), hooks=[lambda e: None])

    rows = [
        ("Headers() of 4 request fields", _per_call(lambda: Headers(request_pairs))),
        ("Request() (URL validation)", _per_call(lambda: Request("POST", url, headers, body))),
        ("Headers() of 6 response fields", _per_call(lambda: Headers(response_pairs))),
        (
            "Response()",
            _per_call(lambda: Response(201, canned.headers, canned.content, request=request)),
        ),
        ("json.dumps + encode of the body", _per_call(lambda: json.dumps(BODY).encode())),
        ("json.loads of the chart", _per_call(lambda: json.loads(canned.content))),
        (
            "PooledTransport.send bookkeeping",
            _per_call(lambda: pooled.send(request, timeout=timeout)),
        ),
        (
            "RetryEngine.send (no hooks)",
            _per_call(lambda: engine.send(pooled, request, timeout=timeout)),
        ),
        (
            "RetryEngine.send (1 hook)",
            _per_call(
                lambda: engine.send(pooled, request, timeout=timeout, hooks=[lambda e: None])
            ),
        ),
        (
            "Datawrapper.create_chart, null transport",
            _per_call(lambda: client.create_chart("Chart")),
        ),
        (
            "Datawrapper.create_chart, 1 hook",
            _per_call(lambda: hooked.create_chart("Chart")),
        ),
    ]
    client.close()
    hooked.close()
    return rows


# --------------------------------------------------------------------------- profile


def profile_ours(url: str, backend: str, *, m: int, top: int = 15) -> dict[str, Any]:
    """cProfile of ``m`` create_chart calls; the package's functions by own time."""
    runner = _Runner(url)
    try:
        call = runner.make(f"ours-{backend}")
        for _ in range(200):
            call()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(m):
            call()
        profiler.disable()
    finally:
        runner.close()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    ours_total = 0.0
    for (filename, line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "/datawrapper/" not in filename or "/benchmarks/" in filename:
            continue
        ours_total += tt
        short = filename.split("/datawrapper/", 1)[1]
        rows.append((tt, ct, nc, f"{short}:{line} {name}"))
    rows.sort(reverse=True)
    return {
        "backend": backend,
        "calls": m,
        "total_us_per_call": total / m * 1e6,
        "ours_us_per_call": ours_total / m * 1e6,
        "top": [
            {"own_us": tt / m * 1e6, "cum_us": ct / m * 1e6, "ncalls": nc, "where": where}
            for tt, ct, nc, where in rows[:top]
        ],
    }
