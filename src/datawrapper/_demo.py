"""``datawrapper demo``: a bulk job against the embedded fake API, four ways, side by side.

The fake Datawrapper API runs on 127.0.0.1 (HTTPS with a throw-away CA when ``trustme`` is
installed), with an emulated WAN round trip, a rate limit that answers 429 with Retry-After and
a few injected 5xx on data uploads. The same job (create, upload data, publish, for N charts)
runs:

1. the community client's way: module-level ``requests.post/put`` calls (a new connection and
   TLS handshake per request, no retries), serially;
2. the same with ``workers`` threads;
3. this package's :class:`~datawrapper.Datawrapper` (pooled connections, retries), serially;
4. the same with ``workers`` threads sharing the client's pool.

Every run gets a fresh fake API, the same faults and a full rate-limit bucket. Connections and
requests are counted by the server. This module computes; :mod:`datawrapper._cli` prints.
"""

from __future__ import annotations

import concurrent.futures
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._bulk import bulk_map
from ._client import Datawrapper
from ._metrics import MetricsCollector
from .testing import FakeDatawrapperAPI, FakeServer, Fault, rate_limited
from .transport._config import PoolConfig

__all__ = ["DemoReport", "DemoRow", "render_report", "run_demo"]

TOKEN = "demo-token"
CHART_TYPE = "d3-bars"
#: Faults every run meets: the first two data uploads answer 503 (an idempotent PUT).
UPLOAD_FAULTS = 2


class ProgressLike(Protocol):
    """What the demo needs of a progress bar."""

    def update(self, *, failed: bool = False) -> None: ...

    def close(self) -> None: ...


ProgressFactory = Callable[[int, str], ProgressLike]


@dataclass(frozen=True)
class DemoRow:
    """The measurements of one run."""

    client: str
    mode: str
    wall: float
    requests: int
    connections: int
    retries: int
    absorbed_429: int
    refused_429: int
    failures: int
    charts: int

    @property
    def ours(self) -> bool:
        """Whether this run used this package's client."""
        return self.client.startswith("datawrapper")


@dataclass(frozen=True)
class DemoReport:
    """Everything the demo measured, and the conditions it ran under."""

    rows: list[DemoRow]
    charts: int
    rtt: float
    workers: int
    backend: str
    tls: bool
    conditions: list[str] = field(default_factory=list)
    rate_limit: tuple[float, int] | None = None

    @property
    def ours_failed(self) -> int:
        """Failed charts in the runs of this package's client (the demo's promise: 0)."""
        return sum(row.failures for row in self.rows if row.ours)


def chart_csv(index: int, rows: int = 60) -> bytes:
    """A deterministic CSV of about 1.5 KB for chart ``index``."""
    lines = ["country,value,change"]
    for row in range(rows):
        value = (index * 37 + row * 11) % 1000 / 10
        lines.append(f"Country {row:02d},{value:.1f},{(row - index) % 13 - 6}")
    return ("\n".join(lines) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- the server side


#: The fake API's rate limit (requests per second, burst): enough that 8 threads of the
#: community way are refused now and then, and the pooled client's 8 threads absorb 429s.
RATE_LIMIT = 50.0
RATE_BURST = 15


class _Stage:
    """The fake API behind one server, reset to the same conditions before every run."""

    def __init__(self, *, rtt: float, note: Callable[[str], None]) -> None:
        try:
            import trustme  # noqa: F401
        except ImportError:
            self.tls = False
            note(
                "note: trustme is not installed, so the demo serves plain HTTP (no TLS "
                "handshakes); pip install 'datawrapper[tls]' for the full picture"
            )
        else:
            self.tls = True
        self.server = FakeServer(FakeDatawrapperAPI(tokens=[TOKEN]), tls=self.tls, rtt=rtt)

    def __enter__(self) -> _Stage:
        self.server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()

    @property
    def verify(self) -> str | bool:
        return self.server.ca_path if self.tls else True

    @staticmethod
    def conditions() -> list[str]:
        return [
            f"a rate limit of {RATE_LIMIT:g} requests/s (burst {RATE_BURST}) answering 429 "
            "with Retry-After",
            f"the first {UPLOAD_FAULTS} data uploads answered 503",
        ]

    def reset(self) -> None:
        """A fresh API, a full rate-limit bucket, the same faults, zeroed counters."""
        server = self.server
        server.wait_for_idle(timeout=5.0)
        server.app = rate_limited(
            FakeDatawrapperAPI(tokens=[TOKEN]), rate=RATE_LIMIT, burst=RATE_BURST
        )
        server.faults.clear()
        server.faults.add(
            Fault.status(503), method="PUT", path=r"^/v3/charts/[^/]+/data$", times=UPLOAD_FAULTS
        )
        server.reset_counters()


# --------------------------------------------------------------------------- the two clients


class _CommunityWay:
    """What the community client does per call: module-level ``requests`` calls, no retries."""

    def __init__(self, base_url: str, verify: str | bool) -> None:
        self.base_url = base_url
        self.verify = verify
        self.headers = {"Authorization": f"Bearer {TOKEN}", "accept": "*/*"}
        self.lock = threading.Lock()
        self.refused_429 = 0

    def _check(self, response: Any) -> None:
        if response.status_code == 429:
            with self.lock:
                self.refused_429 += 1
        if response.status_code >= 400:
            raise RuntimeError(f"status {response.status_code}")

    def make_chart(self, index: int) -> None:
        import requests

        response = requests.post(
            f"{self.base_url}/v3/charts",
            json={"title": f"Demo chart {index}", "type": CHART_TYPE},
            headers=self.headers,
            timeout=30,
            verify=self.verify,
        )
        self._check(response)
        chart_id = response.json()["id"]
        response = requests.put(
            f"{self.base_url}/v3/charts/{chart_id}/data",
            data=chart_csv(index),
            headers={**self.headers, "content-type": "text/csv"},
            timeout=15,
            verify=self.verify,
        )
        self._check(response)
        response = requests.post(
            f"{self.base_url}/v3/charts/{chart_id}/publish",
            headers=self.headers,
            timeout=30,
            verify=self.verify,
        )
        self._check(response)


def _run_jobs(
    job: Callable[[int], None],
    charts: int,
    workers: int,
    progress: ProgressLike,
    client: Datawrapper | None,
) -> int:
    """Run ``job`` for every chart index; return how many failed.

    One thread runs a plain loop. Several threads run on :func:`~datawrapper._bulk.bulk_map`
    for this package's client (shared pool, shared 429 backoff), and on a plain thread pool
    for the community way (what a user of that client would write).
    """
    lock = threading.Lock()

    def one(index: int) -> None:
        try:
            job(index)
        except Exception:
            with lock:
                progress.update(failed=True)
            raise
        with lock:
            progress.update()

    def safe(index: int) -> bool:
        try:
            one(index)
        except Exception:
            return False
        return True

    if workers == 1:
        return sum(not safe(index) for index in range(charts))
    if client is not None:
        result = bulk_map(client, one, range(charts), max_workers=workers)
        return len(result.failed)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    try:
        return sum(not ok for ok in executor.map(safe, range(charts)))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


class _NoProgress:
    def update(self, *, failed: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


def _no_progress(total: int, desc: str) -> ProgressLike:
    return _NoProgress()


def run_demo(
    *,
    charts: int = 24,
    rtt: float = 0.04,
    workers: int = 8,
    backend: str = "requests",
    max_retries: int | None = None,
    progress: ProgressFactory | None = None,
    note: Callable[[str], None] | None = None,
) -> DemoReport:
    """Run the four runs of the demo and return what they measured.

    ``progress(total, description)`` makes a progress bar per run; ``note(text)`` receives
    remarks for the user (e.g. that TLS is off because trustme is missing).
    """
    make_progress = progress or _no_progress
    say = note or (lambda text: None)
    rows: list[DemoRow] = []
    with _Stage(rtt=rtt, note=say) as stage:
        base_url, verify = stage.server.url, stage.verify
        plans: list[tuple[str, int]] = [("community", 1), ("community", workers)]
        plans += [("ours", 1), ("ours", workers)]
        for kind, threads in plans:
            stage.reset()
            mode = "serial" if threads == 1 else f"{threads} threads"
            metrics = MetricsCollector()
            client: Datawrapper | None = None
            community: _CommunityWay | None = None
            job: Callable[[int], None]
            if kind == "community":
                label = "community way"
                community = _CommunityWay(base_url, verify)
                job = community.make_chart
            else:
                label = f"datawrapper ({backend})"
                size = max(10, threads)
                client = Datawrapper(
                    TOKEN,
                    base_url=base_url,
                    transport=backend,
                    verify=verify,
                    pool=PoolConfig(max_connections=size, max_keepalive_connections=size),
                    hooks=[metrics],
                    max_retries=max_retries,
                )
                job = _ours_job(client)
            bar = make_progress(charts, f"{label}, {mode}")
            started = time.perf_counter()
            try:
                failures = _run_jobs(job, charts, threads, bar, client)
            finally:
                bar.close()
                if client is not None:
                    client.close()
            wall = time.perf_counter() - started
            server = stage.server
            snap = metrics.snapshot()
            rows.append(
                DemoRow(
                    client=label,
                    mode=mode,
                    wall=wall,
                    requests=server.requests_received,
                    connections=server.connections_opened,
                    retries=snap.retries,
                    absorbed_429=snap.retries_by_cause.get("429", 0),
                    refused_429=(
                        community.refused_429 if community else snap.errors.get("RateLimitError", 0)
                    ),
                    failures=failures,
                    charts=charts,
                )
            )
        conditions = stage.conditions()
        tls = stage.tls
        rate_limit = (RATE_LIMIT, RATE_BURST)
    return DemoReport(
        rows=rows,
        charts=charts,
        rtt=rtt,
        workers=workers,
        backend=backend,
        tls=tls,
        conditions=conditions,
        rate_limit=rate_limit,
    )


def _ours_job(client: Datawrapper) -> Callable[[int], None]:
    def make_chart(index: int) -> None:
        chart = client.create_chart(
            title=f"Demo chart {index}", chart_type=CHART_TYPE, data=chart_csv(index)
        )
        client.publish_chart(chart["id"])

    return make_chart


# --------------------------------------------------------------------------- the table


def render_report(report: DemoReport) -> str:
    """The demo's summary as text: conditions, the table, and what it shows."""
    scheme = "HTTPS (TLS 1.3, throw-away CA)" if report.tls else "plain HTTP"
    lines = [
        f"datawrapper demo: {report.charts} charts x (create + upload data + publish) against "
        "the embedded fake Datawrapper API",
        f"  {scheme} on 127.0.0.1, emulated round trip {report.rtt * 1000:g} ms",
        "  (here a new connection's first response takes 2 round trips; 3 on a real network)",
        *(f"  {condition}" for condition in report.conditions),
        "",
        "community way: module-level requests.post/put per call, as the community client does "
        "(a new",
        "  connection and TLS handshake per request, no retries); datawrapper: this package's "
        "client",
        "  (one connection pool, retries with backoff, Retry-After honoured)",
        "",
    ]
    header = (
        "client",
        "mode",
        "wall time",
        "requests",
        "connections",
        "retries",
        "429s absorbed",
        "failed",
    )
    body = [
        (
            row.client,
            row.mode,
            f"{row.wall:.2f} s",
            str(row.requests),
            str(row.connections),
            str(row.retries),
            str(row.absorbed_429),
            f"{row.failures}/{row.charts}",
        )
        for row in report.rows
    ]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines.append(line(header))
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(line(row) for row in body)
    lines.append("")
    lines.extend(_conclusions(report))
    return "\n".join(lines)


def _compare(ours: float, theirs: float) -> str:
    ratio = theirs / ours if ours > 0 else float("inf")
    if ratio >= 1.05:
        return f"{ratio:.1f}x faster than"
    if ratio <= 1 / 1.05:
        return f"{1 / ratio:.1f}x slower than"
    return "as fast as"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _conclusions(report: DemoReport) -> list[str]:
    by_kind = {(row.ours, row.mode == "serial"): row for row in report.rows}
    community_serial = by_kind.get((False, True))
    community_threads = by_kind.get((False, False))
    ours_serial = by_kind.get((True, True))
    ours_threads = by_kind.get((True, False))
    if not (community_serial and community_threads and ours_serial and ours_threads):
        return []
    text = [
        f"Pooling: serially, the pooled client opened {_count(ours_serial.connections, 'connection')} "
        f"instead of {community_serial.connections} and took {ours_serial.wall:.2f} s instead "
        f"of {community_serial.wall:.2f} s, including the waits of its {ours_serial.retries} "
        "retries.",
        f"Concurrency: with {ours_threads.mode} sharing {ours_threads.connections} pooled "
        f"connections it took {ours_threads.wall:.2f} s, "
        f"{_compare(ours_threads.wall, community_serial.wall)} the community way serially.",
    ]
    if report.rate_limit is not None:
        rate, burst = report.rate_limit
        accepted = (
            ours_threads.requests
            - ours_threads.absorbed_429
            - ours_threads.refused_429
            - UPLOAD_FAULTS
        )
        floor = max(0.0, (accepted - burst) / rate)
        text[-1] += (
            f" The server's limit of {rate:g} requests/s (burst {burst}) needs at least "
            f"{floor:.2f} s for the {accepted} requests it accepted."
        )
    if community_threads.wall < ours_threads.wall and community_threads.failures:
        text[-1] += (
            f" The community way's {community_threads.mode} ended sooner only by giving up on "
            f"{_count(community_threads.failures, 'chart')}."
        )
    refused = community_serial.refused_429 + community_threads.refused_429
    text.append(
        f"Reliability: the community way lost {_count(community_serial.failures, 'chart')} serially and "
        f"{community_threads.failures} with {community_threads.mode} ({refused} requests "
        "refused with 429, plus the 503s, none retried); the pooled client retried "
        f"{ours_serial.retries + ours_threads.retries} times, absorbed "
        f"{ours_serial.absorbed_429 + ours_threads.absorbed_429} 429s by waiting as asked, "
        f"and lost {report.ours_failed}."
    )
    return [textwrap.fill(paragraph, 100) for paragraph in text]
