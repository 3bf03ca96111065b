"""Load: 16 threads share one client against the loopback fake API, faults sprinkled in.

Per backend: 2000 calls (creates, reads, replaces) with 503/502/429 injected on the fly,
and 1000 more with resets and closed connections. Checked: no call lost or duplicated (the
server's counts match the client's), at most ``PoolConfig.max_connections`` connections at
once, no "Connection pool is full" warning, and no socket or thread left behind after
``close()``.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import datawrapper as dw
from datawrapper._hooks import Event
from datawrapper._metrics import MetricsCollector
from datawrapper.testing import FakeDatawrapperAPI, FakeServer, Fault

TOKEN = "load-test-token-c4d5e6f7"
BACKENDS = ("requests", "httpx", "urllib3")
THREADS = 16
CALLS_PER_THREAD = 125  # 2000 calls per backend
POOL = dw.PoolConfig(max_connections=8, max_keepalive_connections=8)
FAULT_EVERY = 15  # each thread injects a fault before every 15th call
MAX_PENDING_FAULTS = 2  # never more scripted faults waiting than this
FD_DIR = Path("/proc/self/fd")


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir(FD_DIR))


def settle(measure: object, target: int, *, timeout: float = 5.0) -> int:
    """Poll ``measure()`` until it is at most ``target`` (bounded wait); return its last value."""
    assert callable(measure)
    deadline = time.monotonic() + timeout
    value: int = measure()
    while value > target and time.monotonic() < deadline:
        time.sleep(0.05)
        value = measure()
    return value


# Faults that every call survives by retrying, each matched to a method it is safe for:
# a 429 is safe for a POST (the server refused it unprocessed); 503, resets and closed
# connections only for idempotent methods.
STATUS_FAULTS = (
    ("GET", lambda: Fault.status(503)),
    ("PUT", lambda: Fault.status(502, headers={"Retry-After": "0.001"})),
    ("POST", lambda: Fault.rate_limited("0.001")),
)
BROKEN_CONNECTIONS = (
    ("GET", lambda: Fault.reset()),
    ("PUT", lambda: Fault.close_before_response()),
    ("GET", lambda: Fault.truncated_body()),
    ("POST", lambda: Fault.rate_limited("0.001")),
)
#: (faults, calls per thread, whether the server's connection high-water mark is exact).
#: After the server itself closes a connection (reset, close) the client reconnects for the
#: retry before FakeServer has stopped counting the old connection, so with those faults its
#: max_concurrent_connections can read above the real number (by at most the faults pending
#: at once): the exact pool bound is checked with the status faults, where nothing is closed.
MIXES = {
    "503-502-429": (STATUS_FAULTS, CALLS_PER_THREAD, True),
    "resets-and-closes": (BROKEN_CONNECTIONS, CALLS_PER_THREAD // 2, False),
}


@pytest.mark.skipif(not FD_DIR.is_dir(), reason="needs /proc/self/fd to count sockets")
@pytest.mark.parametrize("mix", list(MIXES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_sixteen_threads_share_one_client_under_faults(
    backend: str, mix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Thousands of calls from 16 threads: counts match, pool bound holds, nothing leaks."""
    sprinkled, calls_per_thread, exact_connection_count = MIXES[mix]
    threads_before = threading.active_count()
    fds_before = open_fds()
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    server = FakeServer(api).start()
    metrics = MetricsCollector()
    attempts: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    lock = threading.Lock()

    def per_method(event: Event) -> None:
        if event.kind in ("request", "retry"):
            with lock:
                (attempts if event.kind == "request" else retries)[event.method] += 1

    client = dw.Datawrapper(
        TOKEN,
        base_url=server.url,
        transport=backend,
        pool=POOL,
        max_retries=6,
        backoff_factor=0.001,
        timeout=dw.Timeout(5),
        hooks=[metrics, per_method],
        sleep=lambda seconds: time.sleep(min(seconds, 0.002)),  # real, but tiny
    )
    done: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        try:
            start.wait(timeout=10)
            for i in range(calls_per_thread):
                if (
                    i % FAULT_EVERY == FAULT_EVERY - 1
                    and server.faults.pending < MAX_PENDING_FAULTS
                ):
                    method, make = rng.choice(sprinkled)
                    server.faults.add(make(), method=method)
                    with lock:
                        injected[method] += 1
                roll = rng.random()
                if not mine or roll < 0.25:
                    chart = client.request("POST", "/charts", json={"title": f"t{seed}-{i}"})
                    mine.append(chart.json()["id"])
                    method = "POST"
                elif roll < 0.75:
                    client.request("GET", f"/charts/{rng.choice(mine)}")
                    method = "GET"
                else:
                    client.request("PUT", f"/charts/{rng.choice(mine)}", json={"title": "x"})
                    method = "PUT"
                with lock:
                    done[method] += 1
        except BaseException as exc:
            with lock:
                failures.append(exc)

    with caplog.at_level(logging.WARNING):
        workers = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in workers), "a worker hung"
    assert failures == []

    # No call lost or duplicated: every call succeeded once, and the server agrees.
    calls = THREADS * calls_per_thread
    assert sum(done.values()) == calls
    assert api.created_count == done["POST"]
    snap = metrics.snapshot()
    assert (snap.calls, snap.successes, snap.failures) == (calls, calls, 0)
    fired = sum(injected.values()) - server.faults.pending
    assert fired > calls // 50  # the faults really were sprinkled in
    assert snap.retries == fired  # each fault cost exactly one retry, no more, no less
    assert snap.attempts == calls + fired
    received = Counter(r.method for r in server.received)
    assert sum(received.values()) == server.requests_received == snap.attempts
    for method in ("GET", "PUT", "POST"):
        # per method: the server saw each attempt the client made, one per call plus retries
        assert received[method] == attempts[method] == done[method] + retries[method]
        assert retries[method] <= injected[method]

    # The pool bound held and the pool never overflowed.
    if exact_connection_count:
        assert server.max_concurrent_connections <= POOL.max_connections
    else:
        assert server.max_concurrent_connections <= POOL.max_connections + MAX_PENDING_FAULTS
    assert not [r for r in caplog.records if "pool is full" in r.getMessage().lower()]

    # Nothing left behind: the client closed every connection, then threads and fds return.
    client.close()
    assert server.wait_for_idle(5), "the client left connections open after close()"
    server.stop()
    assert settle(threading.active_count, threads_before) <= threads_before
    assert settle(open_fds, fds_before) <= fds_before
