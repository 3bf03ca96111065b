"""The WAN benchmark: every flavour, serial and concurrent, over the emulated link.

:func:`self_check` verifies the link first (a reused connection costs ~1 RTT per request, a
new TLS 1.3 connection ~3); :func:`run_wan` measures the workloads with runs interleaved
(each run visits every flavour, in a rotated order, so drift hits all of them alike).
"""

from __future__ import annotations

import socket
import ssl
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from testbed import WanTestBed
from workloads import CALLS, FLAVOURS, TOKEN


@dataclass
class Measurement:
    workload: str
    flavour: str
    workers: int
    n: int
    walls: list[float] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return self.n * CALLS[self.workload]

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def conns(self) -> int:
        return int(statistics.median(self.connections))


# --------------------------------------------------------------------------- self-check


def _tls_version(url: str, ca_path: str) -> str:
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    context = ssl.create_default_context(cafile=ca_path)
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return str(tls.version())


def self_check(bed: WanTestBed, *, samples: int = 5, reused: int = 20) -> dict[str, Any]:
    """Time requests on new and on reused connections through the proxy (urllib3, GET /v3/me)."""
    assert bed.ca_path is not None
    url = f"{bed.url}/v3/me"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    new_times = []
    for _ in range(samples):
        pm = urllib3.PoolManager(ca_certs=bed.ca_path, cert_reqs="CERT_REQUIRED", retries=False)
        start = time.perf_counter()
        r = pm.request("GET", url, headers=headers)
        new_times.append(time.perf_counter() - start)
        if r.status != 200:
            raise RuntimeError(f"self-check request failed: {r.status}")
        pm.clear()
    pm = urllib3.PoolManager(ca_certs=bed.ca_path, cert_reqs="CERT_REQUIRED", retries=False)
    pm.request("GET", url, headers=headers)
    bed.reset()
    reuse_times = []
    for _ in range(reused):
        start = time.perf_counter()
        pm.request("GET", url, headers=headers)
        reuse_times.append(time.perf_counter() - start)
    reuse_conns = bed.connections_opened()
    pm.clear()
    rtt = bed.rtt
    new_med = statistics.median(new_times)
    reuse_med = statistics.median(reuse_times)
    result = {
        "rtt_ms": rtt * 1000,
        "tls_version": _tls_version(bed.url, bed.ca_path),
        "new_ms": new_med * 1000,
        "new_rtts": new_med / rtt if rtt else float("nan"),
        "reused_ms": reuse_med * 1000,
        "reused_rtts": reuse_med / rtt if rtt else float("nan"),
        "reused_connections": reuse_conns,
        "samples": (samples, reused),
    }
    ok = rtt == 0 or (0.95 <= result["reused_rtts"] <= 1.15 and 2.9 <= result["new_rtts"] <= 3.4)
    result["ok"] = bool(ok and reuse_conns == 0)
    return result


def format_self_check(check: dict[str, Any]) -> str:
    return (
        f"link self-check ({check['tls_version']}, RTT {check['rtt_ms']:g} ms): "
        f"new connection {check['new_ms']:.1f} ms = {check['new_rtts']:.2f} RTT (expect ~3), "
        f"reused {check['reused_ms']:.1f} ms = {check['reused_rtts']:.2f} RTT (expect ~1), "
        f"{check['reused_connections']} new connections during the reused requests "
        f"-> {'OK' if check['ok'] else 'OUT OF TOLERANCE'}"
    )


# --------------------------------------------------------------------------- the runs


def _measure_once(
    bed: WanTestBed, flavour: str, workload: str, n: int, workers: int
) -> tuple[float, int]:
    assert bed.ca_path is not None
    bed.reset()
    client = FLAVOURS[flavour](bed.url, bed.ca_path, workers)
    try:
        start = time.perf_counter()
        client.run(workload, range(n), workers)
        wall = time.perf_counter() - start
    finally:
        client.close()
    return wall, bed.connections_opened()


def run_wan(
    bed: WanTestBed,
    *,
    plan: list[tuple[str, int, int, list[str], int]],
    log: Callable[[str], None] = print,
) -> list[Measurement]:
    """Measure every ``(workload, n, workers, flavours, runs)`` of ``plan``, interleaved.

    Round r visits every entry that wants more than r runs, and within an entry every
    flavour, in an order rotated by r, so slow drift of the machine hits all alike.
    """
    results: dict[tuple[str, str, int], Measurement] = {}
    for workload, n, workers, flavours, _ in plan:
        for flavour in flavours:
            results[(workload, flavour, workers)] = Measurement(workload, flavour, workers, n)
    # warm-up: imports, TLS contexts, lazy initialisation; not measured
    for flavour in FLAVOURS:
        _measure_once(bed, flavour, "mixed", 1, 1)
    rounds = max(entry[4] for entry in plan)
    for run in range(rounds):
        for workload, n, workers, flavours, runs in plan:
            if run >= runs:
                continue
            shift = run % len(flavours)
            for flavour in flavours[shift:] + flavours[:shift]:
                wall, conns = _measure_once(bed, flavour, workload, n, workers)
                m = results[(workload, flavour, workers)]
                m.walls.append(wall)
                m.connections.append(conns)
                log(
                    f"  run {run + 1}/{runs} {workload:6} x{n:<4} workers={workers} "
                    f"{flavour:14} {wall:7.3f} s  {conns:4d} connections"
                )
    return list(results.values())
