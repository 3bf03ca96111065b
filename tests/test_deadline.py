"""Deadlines: a call with ``deadline=D`` returns or raises within D plus a small tolerance,
whatever the server does, on every backend (real time here, but short).

A body that trickles in small pieces, each within the per-read timeout, is bounded too: the
engine sets ``Timeout.total`` from the time left, and every backend shrinks each read to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import datawrapper as dw
from datawrapper._hooks import Event
from datawrapper.testing import (
    FakeDatawrapperAPI,
    FakeServer,
    Fault,
    FaultScript,
    in_process_transport,
)

TOKEN = "deadline-test-token-77b0e4"
BACKENDS = ("requests", "httpx", "urllib3")
DEADLINE = 0.6
TOLERANCE = 0.4  # scheduling and loopback slack on a busy CI machine
ALWAYS = 1000


@dataclass(frozen=True)
class Scenario:
    """A misbehaving server and what the deadline must cut short."""

    name: str
    fault: Callable[[], Fault | None]  # None: connection refused
    errors: tuple[type[Exception], ...]
    min_attempts: int = 1


SCENARIOS = (
    Scenario(
        "stall before headers, every attempt",
        lambda: Fault.delay(5, process=False),
        (dw.ReadTimeout, dw.DeadlineExceeded),
    ),
    Scenario(
        "body stalls after the headers",
        lambda: Fault.slow_body(chunk_delay=5, chunks=2),
        (dw.ReadTimeout, dw.DeadlineExceeded),
    ),
    Scenario(
        "503 with Retry-After: 0.2, every attempt",
        lambda: Fault.status(503, headers={"Retry-After": "0.2"}),
        (dw.ServerError, dw.DeadlineExceeded),
        min_attempts=2,
    ),
    Scenario(
        "429 with Retry-After: 5, beyond the deadline",
        lambda: Fault.rate_limited("5"),
        (dw.RateLimitError,),
    ),
    Scenario(
        "connection refused",
        lambda: None,
        (dw.ConnectError, dw.DeadlineExceeded),
        min_attempts=2,
    ),
)


def closed_port() -> int:
    """A loopback port with nothing listening."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_with_deadline(
    backend: str, fault: Fault | None, *, times: int = ALWAYS
) -> tuple[float, BaseException | None, list[Event]]:
    """GET /v3/charts with a 0.6 s client deadline (and 5 s timeouts) against ``fault``."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    server = FakeServer(api).start() if fault is not None else None
    if server is not None and fault is not None:
        server.faults.add(fault, method="GET", times=times)
    base_url = server.url if server is not None else f"http://127.0.0.1:{closed_port()}"
    events: list[Event] = []
    client = dw.Datawrapper(
        TOKEN,
        base_url=base_url,
        transport=backend,
        deadline=DEADLINE,
        max_retries=50,
        backoff_factor=0.05,
        timeout=dw.Timeout(5),
        hooks=[events.append],
    )
    error: BaseException | None = None
    started = time.monotonic()
    try:
        client.request("GET", "/charts")
    except dw.DatawrapperError as exc:
        error = exc
    elapsed = time.monotonic() - started
    client.close()
    if server is not None:
        server.stop()
    return elapsed, error, events


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
@pytest.mark.parametrize("backend", BACKENDS)
def test_call_ends_within_its_deadline(backend: str, scenario: Scenario) -> None:
    """Whatever the server does, the call raises within the deadline plus the tolerance."""
    elapsed, error, events = run_with_deadline(backend, scenario.fault())
    assert isinstance(error, scenario.errors), repr(error)
    assert elapsed <= DEADLINE + TOLERANCE, f"{elapsed:.2f} s for a {DEADLINE} s deadline"
    attempts = sum(e.kind == "request" for e in events)
    assert attempts >= scenario.min_attempts
    assert events[-1].kind == "error"


@pytest.mark.parametrize("backend", BACKENDS)
def test_trickling_body_is_cut_at_the_deadline(backend: str) -> None:
    """A body of 12 pieces 0.1 s apart (1.2 s), each within Timeout.read, ends at the deadline."""
    elapsed, error, _ = run_with_deadline(
        backend, Fault.slow_body(chunk_delay=0.1, chunks=12), times=1
    )
    assert elapsed <= DEADLINE + TOLERANCE, f"{elapsed:.2f} s, {error!r}"


# --------------------------------------------------------------------------- where D is set


class FakeClock:
    """Monotonic time that moves only when a request or a sleep takes time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("where", ["client", "policy", "call"])
def test_deadline_can_be_set_on_the_client_the_policy_or_the_call(where: str) -> None:
    """Datawrapper(deadline=), RetryPolicy(deadline=) and request(deadline=) all bound the call."""
    clock = FakeClock()
    faults = FaultScript()
    faults.add(Fault.status(503), method="GET", times=ALWAYS)
    transport = in_process_transport(FakeDatawrapperAPI(tokens=[TOKEN]), faults)
    client = dw.Datawrapper(
        TOKEN,
        base_url="https://api.example.test",
        transport=transport,
        retry=dw.RetryPolicy(max_retries=100, deadline=3.0 if where == "policy" else None),
        deadline=3.0 if where == "client" else None,
        sleep=clock.sleep,
        clock=clock,
        random=lambda: 0.0,
    )
    with pytest.raises(dw.ServerError, match="would pass the deadline"):
        client.request("GET", "/charts", deadline=3.0 if where == "call" else None)
    assert sum(clock.slept) <= 3.0
    assert clock.slept == [0.5, 1.0]  # the next wait (2 s) would pass the 3 s deadline


def test_each_attempt_timeout_is_capped_to_the_time_left() -> None:
    """The last attempt is sent with every timeout field shortened to the time left."""
    clock = FakeClock()

    def slow_503(request: dw.Request) -> dw.Response:
        clock.now += 1.0  # each attempt takes a second
        return dw.Response(503)

    transport = dw.MockTransport(slow_503)
    client = dw.Datawrapper(
        TOKEN,
        base_url="https://api.example.test",
        transport=transport,
        deadline=2.0,
        timeout=dw.Timeout(30),
        sleep=clock.sleep,
        clock=clock,
        random=lambda: 0.0,
    )
    with pytest.raises(dw.ServerError):
        client.request("GET", "/charts")
    first, second = transport.timeouts
    assert first == dw.Timeout(2.0, total=2.0)  # 2 s left of the deadline at the start
    assert second == dw.Timeout(0.5, total=0.5)  # 2 - 1 s attempt - 0.5 s wait


# --------------------------------------------------------------------------- API methods


@pytest.mark.parametrize("backend", BACKENDS)
def test_api_method_deadline_cuts_a_server_stalling_every_attempt(backend: str) -> None:
    """client.get_chart(id, deadline=0.6) ends within 0.6 s plus the tolerance on a stall."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    events: list[Event] = []
    with FakeServer(api) as server:
        server.faults.add(Fault.delay(5, process=False), method="GET", times=ALWAYS)
        client = dw.Datawrapper(
            TOKEN,
            base_url=server.url,
            transport=backend,
            max_retries=50,
            backoff_factor=0.05,
            timeout=dw.Timeout(5),
            hooks=[events.append],
        )
        started = time.monotonic()
        with pytest.raises((dw.ReadTimeout, dw.DeadlineExceeded)):
            client.get_chart("aBc12", deadline=DEADLINE)
        elapsed = time.monotonic() - started
        client.close()
    assert client.retry.deadline is None  # the bound came from the call alone
    assert elapsed <= DEADLINE + TOLERANCE, f"{elapsed:.2f} s for a {DEADLINE} s deadline"
    assert sum(e.kind == "request" for e in events) >= 1
    assert events[-1].kind == "error"


def slow_client(
    seconds_per_request: float, deadline: float | None = None
) -> tuple[dw.Datawrapper, dw.MockTransport]:
    """A client on a fake clock whose every request takes ``seconds_per_request``."""
    clock = FakeClock()
    api = FakeDatawrapperAPI(tokens=[TOKEN])

    def slow_api(request: dw.Request) -> dw.Response:
        clock.now += seconds_per_request
        return api(request)

    transport = dw.MockTransport(slow_api)
    client = dw.Datawrapper(
        TOKEN,
        base_url="https://api.example.test",
        transport=transport,
        timeout=dw.Timeout(30),
        deadline=deadline,
        sleep=clock.sleep,
        clock=clock,
        random=lambda: 0.0,
    )
    return client, transport


def test_create_chart_spends_one_deadline_on_both_requests() -> None:
    """create_chart(data=..., deadline=1) gives the upload only what the creation left."""
    client, transport = slow_client(0.7)
    chart = client.create_chart("Turnout", data="a\n1\n", deadline=1.0)
    create, upload = transport.timeouts
    assert create.total == 1.0
    assert upload.total == pytest.approx(0.3)  # 1 s - the 0.7 s the creation took
    assert [r.method for r in transport.requests] == ["POST", "PUT"]
    assert chart["id"]


def test_create_chart_sends_no_upload_when_the_deadline_is_spent() -> None:
    """When the creation used up the deadline, the upload is not sent and the chart is named."""
    client, transport = slow_client(1.2)
    with pytest.raises(dw.PartialFailureError) as caught:
        client.create_chart("Turnout", data="a\n1\n", deadline=1.0)
    assert [r.method for r in transport.requests] == ["POST"]
    assert isinstance(caught.value.__cause__, dw.DeadlineExceeded)
    assert "no time was left for uploading the data" in str(caught.value.__cause__)
    assert caught.value.chart_id and caught.value.step == "add_data"


def test_update_chart_with_data_spends_one_deadline() -> None:
    """update_chart(title=..., data=..., deadline=2) caps the upload to what the PATCH left."""
    client, transport = slow_client(0.5)
    chart_id = client.create_chart("Before")["id"]
    client.update_chart(chart_id, title="After", data="a\n1\n", deadline=2.0)
    patch, upload = transport.timeouts[1:]
    assert patch.total == 2.0
    assert upload.total == pytest.approx(1.5)


def test_client_policy_deadline_is_shared_by_a_multi_request_call() -> None:
    """With no per-call deadline, the client's RetryPolicy.deadline bounds the whole call."""
    client, transport = slow_client(0.7, deadline=1.0)
    client.create_chart("Turnout", data="a\n1\n")
    assert [t.total for t in transport.timeouts] == [1.0, pytest.approx(0.3)]
