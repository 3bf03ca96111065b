"""Conformance: each field of Timeout fires, as the same exception, within a tolerance.

- connect: a loopback listener whose accept queue is full (SYNs are dropped), and a server
  that accepts but never answers the TLS handshake;
- read: a delay before the response headers, and a stalled body; a slow body whose pieces
  each come within the limit is not a timeout (the limit is between bytes, not in total);
- pool: max_connections=1 with one request stalled; block=False fails at once;
- write: a server that never reads and a large upload. httpx bounds the send phase by
  Timeout.write, requests and urllib3 by Timeout.connect (docs/backends.md).

Every wait here is real but short (at most about a second); the lower bounds only check that
a timer did not fire early, the upper bounds allow a loaded CI box SLACK seconds.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from _conformance import (
    BACKENDS,
    SLACK,
    WRITE_PHASE_LIMIT,
    EventRecorder,
    SleepRecorder,
    non_reading_server,
    reset_server,
    settle,
    unaccepting_listener,
    wait_until,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from datawrapper import Datawrapper
from datawrapper._exceptions import (
    ConnectTimeout,
    PoolTimeout,
    ReadTimeout,
    TransportError,
    WriteTimeout,
)
from datawrapper.testing import FakeServer, Fault
from datawrapper.transport import PoolConfig, Request, Response, Timeout, create_transport

FEW = max(4, settings().max_examples // 10)  # each example waits for a real timer


def _elapsed_error(call: object) -> tuple[float, BaseException]:
    assert callable(call)
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        call()
    return time.monotonic() - start, info.value


@pytest.mark.parametrize("backend", BACKENDS)
@given(connect=st.floats(0.05, 0.3))
@settings(max_examples=FEW)
def test_connect_timeout(backend: str, connect: float) -> None:
    """A connection that cannot be opened raises ConnectTimeout after Timeout.connect."""
    with (
        unaccepting_listener() as (host, port),
        contextlib.closing(create_transport(backend)) as transport,
    ):
        elapsed, error = _elapsed_error(
            lambda: transport.send(
                Request("POST", f"http://{host}:{port}/x", content=b"body"),
                timeout=Timeout(5, connect=connect),
            )
        )
    assert type(error) is ConnectTimeout
    assert error.request_sent is False
    assert connect - 0.02 <= elapsed <= connect + SLACK


@pytest.mark.parametrize("backend", BACKENDS)
def test_connect_timeout_is_retried_even_for_post(backend: str) -> None:
    """A POST that never got a connection was not sent, so the client retries it."""
    sleeps, events = SleepRecorder(), EventRecorder()
    with (
        unaccepting_listener() as (host, port),
        Datawrapper(
            "test-token",
            base_url=f"http://{host}:{port}",
            transport=backend,
            max_retries=2,
            timeout=Timeout(5, connect=0.05),
            sleep=sleeps,
            hooks=events,
        ) as client,
        pytest.raises(ConnectTimeout) as info,
    ):
        client.create_chart(title="never sent")
    assert events.attempts == 3
    assert len(sleeps.calls) == 2
    assert len(info.value.attempts) == 3
    assert info.value.outcome_unknown is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_stalled_tls_handshake_is_a_connect_timeout(backend: str) -> None:
    """A TLS handshake the server never answers counts against Timeout.connect and raises
    ConnectTimeout (nothing was sent), on every backend."""
    with (
        non_reading_server() as (host, port),
        contextlib.closing(create_transport(backend)) as transport,
    ):
        elapsed, error = _elapsed_error(
            lambda: transport.send(
                Request("POST", f"https://{host}:{port}/x", content=b"body"),
                timeout=Timeout(5, connect=0.2),
            )
        )
    assert type(error) is ConnectTimeout
    assert error.request_sent is False
    assert 0.18 <= elapsed <= 0.2 + SLACK


@pytest.mark.parametrize("backend", BACKENDS)
@given(read=st.floats(0.05, 0.3), stalled_body=st.booleans())
@settings(max_examples=FEW)
def test_read_timeout(server: FakeServer, backend: str, read: float, stalled_body: bool) -> None:
    """No response bytes for Timeout.read seconds (before the headers, or half-way through
    the body) raises ReadTimeout after that long."""
    reset_server(server)
    if stalled_body:
        server.faults.add(Fault.slow_body(chunk_delay=read + 0.3, chunks=2), path="^/slow$")
    else:
        server.faults.add(Fault.delay(read + 0.3, process=False), path="^/slow$")
    with contextlib.closing(create_transport(backend)) as transport:
        elapsed, error = _elapsed_error(
            lambda: transport.send(
                Request("GET", server.url + "/slow", content=b"x" * 10),
                timeout=Timeout(5, read=read),
            )
        )
    settle(server)
    assert type(error) is ReadTimeout
    assert error.request_sent is True
    assert read - 0.02 <= elapsed <= read + SLACK


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_timeout_is_between_bytes_not_in_total(server: FakeServer, backend: str) -> None:
    """A body that arrives in pieces, each within Timeout.read, is read completely even
    though the whole response takes longer than Timeout.read."""
    reset_server(server)
    server.faults.add(Fault.slow_body(chunk_delay=0.06, chunks=5), path="^/slow$")
    body = bytes(range(256)) * 4
    with contextlib.closing(create_transport(backend)) as transport:
        start = time.monotonic()
        response = transport.send(
            Request("POST", server.url + "/slow", content=body), timeout=Timeout(5, read=0.2)
        )
        elapsed = time.monotonic() - start
    settle(server)
    assert response.content == body
    assert elapsed >= 0.29  # five pauses of 0.06 s: longer than the read limit in total


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("block", [True, False])
def test_pool_timeout(server: FakeServer, backend: str, block: bool) -> None:
    """With max_connections=1 and one request stalled, the next waits Timeout.pool (or not at
    all when block=False) and raises PoolTimeout without reaching the server; the stalled
    request then completes."""
    reset_server(server)
    server.faults.add(Fault.delay(0.5), path="^/stalled$")
    pool = PoolConfig(max_connections=1, max_keepalive_connections=1, block=block)
    before = server.requests_received
    stalled: list[Response] = []
    with contextlib.closing(create_transport(backend, pool=pool)) as transport:
        thread = threading.Thread(
            target=lambda: stalled.append(
                transport.send(Request("GET", server.url + "/stalled"), timeout=Timeout(5))
            )
        )
        thread.start()
        assert wait_until(lambda: server.requests_received == before + 1)
        elapsed, error = _elapsed_error(
            lambda: transport.send(
                Request("POST", server.url + "/second"), timeout=Timeout(5, pool=0.2)
            )
        )
        assert server.requests_received == before + 1, "the refused request reached the server"
        thread.join(5)
    settle(server)
    assert type(error) is PoolTimeout
    assert error.request_sent is False
    if block:
        assert 0.18 <= elapsed <= 0.2 + SLACK
    else:
        assert elapsed < 0.18, "block=False must not wait for a free connection"
    assert [r.status_code for r in stalled] == [200]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("connect", "write"), [(0.15, 0.9), (0.9, 0.15)])
def test_write_timeout(backend: str, connect: float, write: float) -> None:
    """An upload the server never reads raises WriteTimeout on every backend; the limit that
    bounds it is Timeout.write on httpx and Timeout.connect on requests and urllib3."""
    body = bytes(48 * 1024 * 1024)  # far more than the loopback socket buffers hold
    limit, other = (write, connect) if WRITE_PHASE_LIMIT[backend] == "write" else (connect, write)
    with (
        non_reading_server() as (host, port),
        contextlib.closing(create_transport(backend)) as transport,
    ):
        elapsed, error = _elapsed_error(
            lambda: transport.send(
                Request("PUT", f"http://{host}:{port}/data", content=body),
                timeout=Timeout(5, connect=connect, write=write),
            )
        )
    assert type(error) is WriteTimeout
    assert error.request_sent is True
    assert limit - 0.02 <= elapsed <= limit + SLACK
    assert abs(elapsed - limit) < abs(elapsed - other), (
        f"{backend} timed out after {elapsed:.2f} s: closer to the other limit ({other} s)"
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stall", ["before the headers", "in the body"])
def test_total_timeout_bounds_the_whole_attempt(
    server: FakeServer, backend: str, stall: str
) -> None:
    """Timeout.total ends an attempt whose response is slow to start or trickles in, each
    read within Timeout.read, with ReadTimeout after about Timeout.total on every backend."""
    reset_server(server)
    if stall == "in the body":
        server.faults.add(Fault.slow_body(chunk_delay=0.1, chunks=8), path="^/slow$")
    else:
        server.faults.add(Fault.delay(0.8, process=False), path="^/slow$")
    with contextlib.closing(create_transport(backend)) as transport:
        elapsed, error = _elapsed_error(
            lambda: transport.send(
                Request("GET", server.url + "/slow", content=b"y" * 100),
                timeout=Timeout(5, read=2, total=0.3),
            )
        )
    settle(server)
    assert type(error) is ReadTimeout
    assert 0.28 <= elapsed <= 0.3 + 0.3, f"{backend} gave up after {elapsed:.2f} s"
