"""Conformance: connection reuse and the PoolConfig bounds, counted by the server.

- N sequential calls open exactly one connection, whatever the statuses and bodies;
- T threads x M calls never have more than ``max_connections`` open at once;
- ``keepalive_expiry`` drops idle connections on every backend;
- ``max_keepalive_connections`` is where the libraries differ (docs/backends.md).
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from _conformance import (
    BACKENDS,
    KEEPALIVE_LIMIT_HONOURED,
    EventRecorder,
    SleepRecorder,
    make_client,
    reset_server,
    settle,
    wait_until,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from datawrapper._exceptions import TransportError
from datawrapper.testing import FakeServer, Fault, echo_app
from datawrapper.transport import Headers, PoolConfig, Request, Response, Timeout, create_transport

TIMEOUT = Timeout(5)


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]),
            st.sampled_from([200, 201, 204, 400, 404, 429, 500, 503]),
            st.binary(max_size=2_000),
        ),
        min_size=2,
        max_size=15,
    )
)
def test_sequential_calls_share_one_connection(
    server: FakeServer, backend: str, calls: list[tuple[str, int, bytes]]
) -> None:
    """N sequential calls, whatever their methods, statuses and bodies, open exactly one
    connection and all arrive over it."""
    reset_server(server)
    opened = server.connections_opened
    before = len(server.received)
    with contextlib.closing(create_transport(backend)) as transport:
        for method, status, body in calls:
            response = transport.send(
                Request(
                    method,
                    server.url + "/seq",
                    Headers([("X-Respond-Status", str(status))]),
                    body,
                ),
                timeout=TIMEOUT,
            )
            assert response.status_code == status
    settle(server)
    assert server.connections_opened - opened == 1
    received = server.received[before:]
    assert len(received) == len(calls)
    assert len({r.connection_id for r in received}) == 1


@pytest.mark.parametrize("backend", BACKENDS)
@given(failures=st.integers(1, 3), status=st.sampled_from([429, 500, 502, 503, 504]))
def test_retries_reuse_the_connection(
    server: FakeServer, backend: str, failures: int, status: int
) -> None:
    """A call retried after error statuses sends every attempt over the same connection."""
    reset_server(server)
    server.faults.add(Fault.status(status), path="^/v3/retry$", times=failures)
    opened = server.connections_opened
    sleeps, events = SleepRecorder(), EventRecorder()
    with make_client(backend, server, max_retries=3, sleep=sleeps, hooks=events) as client:
        response = client.request("GET", "/retry")
    settle(server)
    assert response.status_code == 200
    assert events.attempts == failures + 1
    assert len(sleeps.calls) == failures
    assert server.connections_opened - opened == 1


class InFlightApp:
    """echo_app that takes a few milliseconds and records how many requests it served at once."""

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        try:
            time.sleep(0.005)
            return echo_app(request)
        finally:
            with self._lock:
                self.current -= 1


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    threads=st.integers(2, 6),
    calls=st.integers(1, 4),
    max_connections=st.integers(1, 4),
    data=st.data(),
)
@settings(max_examples=settings().max_examples * 3 // 5)  # ci: 12, deep: 180
def test_threads_never_exceed_max_connections(
    backend: str, threads: int, calls: int, max_connections: int, data: st.DataObject
) -> None:
    """T threads x M calls all succeed, never more than PoolConfig.max_connections requests
    are in flight at the server, and never more connections are open at once.

    The connection count is exact when every connection may be kept
    (max_keepalive_connections == max_connections, the default). With fewer kept, httpx
    closes a surplus connection and may open the next one at once, and the server may count
    both for a moment (it notices the close a thread switch later), so there only the
    in-flight bound is asserted.
    """
    keepalive = data.draw(
        st.one_of(st.just(max_connections), st.integers(1, max_connections)),
        label="max_keepalive_connections",
    )
    pool = PoolConfig(max_connections=max_connections, max_keepalive_connections=keepalive)
    app = InFlightApp()
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    # A fresh server per example: its high-water mark of open connections cannot be reset.
    with (
        FakeServer(app) as server,
        contextlib.closing(create_transport(backend, pool=pool)) as transport,
    ):
        barrier = threading.Barrier(threads)

        def worker() -> None:
            try:
                barrier.wait(5)
                for _ in range(calls):
                    response = transport.send(
                        Request("GET", server.url + "/t"), timeout=Timeout(5, pool=10)
                    )
                    with lock:
                        results.append(response.status_code)
            except BaseException as exc:  # reported below, with the others
                with lock:
                    errors.append(exc)

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for worker_thread in workers:
            worker_thread.start()
        for worker_thread in workers:
            worker_thread.join(30)
        assert not errors, errors
        assert results == [200] * (threads * calls)
        assert server.requests_received == threads * calls
        assert app.peak <= max_connections
        if keepalive == max_connections:
            assert server.max_concurrent_connections <= max_connections
            assert server.connections_opened <= max_connections


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_keepalive_connections(server: FakeServer, backend: str) -> None:
    """After a burst on 4 connections with max_keepalive_connections=1, every backend keeps
    exactly 1 idle connection and closes the other 3."""
    reset_server(server)
    settle(server)
    server.faults.add(Fault.delay(0.2), path="^/burst$", times=4)
    opened = server.connections_opened
    pool = PoolConfig(max_connections=4, max_keepalive_connections=1)
    with contextlib.closing(create_transport(backend, pool=pool)) as transport:
        barrier = threading.Barrier(4)
        responses: list[Response] = []

        def worker() -> None:
            barrier.wait(5)
            responses.append(transport.send(Request("GET", server.url + "/burst"), timeout=TIMEOUT))

        workers = [threading.Thread(target=worker) for _ in range(4)]
        for worker_thread in workers:
            worker_thread.start()
        for worker_thread in workers:
            worker_thread.join(10)
        assert [r.status_code for r in responses] == [200] * 4
        assert server.connections_opened - opened == 4
        kept = 1 if KEEPALIVE_LIMIT_HONOURED[backend] else 4
        wait_until(lambda: server.open_connections == kept, timeout=2.0)
        assert server.open_connections == kept
    settle(server)


@pytest.mark.parametrize("backend", BACKENDS)
def test_keepalive_expiry_drops_idle_connections(server: FakeServer, backend: str) -> None:
    """A connection idle longer than keepalive_expiry is not reused: the next call opens a
    new one, on every backend; a connection idle for less is reused."""
    reset_server(server)
    short = create_transport(backend, pool=PoolConfig(keepalive_expiry=0.15))
    long = create_transport(backend, pool=PoolConfig(keepalive_expiry=30))
    opened = server.connections_opened
    with contextlib.closing(short), contextlib.closing(long):
        for transport in (short, long):
            transport.send(Request("GET", server.url + "/idle"), timeout=TIMEOUT)
        assert server.connections_opened - opened == 2
        time.sleep(0.3)  # the only way to age a connection: the pools use time.monotonic
        for transport in (short, long):
            transport.send(Request("GET", server.url + "/idle"), timeout=TIMEOUT)
        # one new connection, for the short-expiry transport only
        assert server.connections_opened - opened == 3
        assert len({r.connection_id for r in server.received[-4:]}) == 3
    settle(server)


FAILURES = {
    "undecodable body": (Headers([("X-Respond-Header-Content-Encoding", "gzip")]), None),
    "truncated body": (Headers(), Fault.truncated_body()),
    "reset": (Headers(), Fault.reset()),
    "read timeout": (Headers(), Fault.delay(0.6, process=False)),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_close_closes_every_connection_after_a_failure(
    server: FakeServer, backend: str, failure: str
) -> None:
    """After a failed exchange on a pooled connection, close() leaves no connection open at
    the server, even while the caller still holds the exception (and so its traceback)."""
    reset_server(server)
    headers, fault = FAILURES[failure]
    if fault is not None:
        server.faults.add(fault, path="^/fail$")
    held: list[BaseException] = []
    transport = create_transport(backend)
    transport.send(Request("GET", server.url + "/warm"), timeout=TIMEOUT)
    try:
        transport.send(
            Request("GET", server.url + "/fail", headers, b"not gzip data"),
            timeout=Timeout(5, read=0.3),
        )
    except TransportError as exc:
        held.append(exc)
    transport.close()
    settle(server)
    assert len(held) == 1
