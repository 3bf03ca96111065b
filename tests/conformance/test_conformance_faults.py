"""Conformance: every fault ends the same way on every backend, and the way the contract says.

Hypothesis picks a method, a retry budget and a sequence of faults for successive attempts
(statuses, resets, early closes, truncated bodies, stalls past the read timeout, slow bodies
within it). The same call then runs on requests, httpx and urllib3 over the fake server and on
MockTransport with the in-process fault handler, and must give the same
(result, attempts, outcome_unknown, sleeps, requests processed by the app, requests received
by the server). An oracle written from the retry table of ``datawrapper.transport._retry``
says what that result must be, and every exception must be one of ours.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from _conformance import (
    BACKENDS,
    WITH_MOCK,
    CountingApp,
    EventRecorder,
    Outcome,
    SleepRecorder,
    make_client,
    reset_server,
    run_call,
    settle,
)
from hypothesis import given
from hypothesis import strategies as st

from datawrapper._exceptions import DecodingError, TransportError
from datawrapper.testing import FakeServer, Fault, FaultScript
from datawrapper.transport import Timeout
from datawrapper.transport._retry import IDEMPOTENT_METHODS

READ = 0.3  # the read timeout of these calls: ample for a normal answer on a loaded box
STALL = 0.6  # how long a stalled response waits: longer than READ


@dataclass(frozen=True)
class Spec:
    """A fault, and what it must amount to: a status, or the transport error it raises."""

    make: Callable[[], Fault]
    status: int | None = None  # the answer of a status fault
    error: str | None = None  # our exception class for a broken exchange
    processed: bool = False  # whether the application handled the request


FAULTS: dict[str, Spec] = {
    "500": Spec(lambda: Fault.status(500), status=500),
    "502": Spec(lambda: Fault.status(502), status=502),
    "503": Spec(lambda: Fault.status(503), status=503),
    "504": Spec(lambda: Fault.status(504), status=504),
    "429": Spec(lambda: Fault.rate_limited(), status=429),
    "429 retry-after 0": Spec(lambda: Fault.rate_limited("0"), status=429),
    "400": Spec(lambda: Fault.status(400), status=400),
    "404": Spec(lambda: Fault.status(404), status=404),
    "reset": Spec(Fault.reset, error="ReadError"),
    "reset, processed": Spec(lambda: Fault.reset(process=True), error="ReadError", processed=True),
    "close before response": Spec(Fault.close_before_response, error="RemoteProtocolError"),
    "close before response, processed": Spec(
        lambda: Fault.close_before_response(process=True),
        error="RemoteProtocolError",
        processed=True,
    ),
    "close after headers": Spec(
        Fault.close_after_headers, error="RemoteProtocolError", processed=True
    ),
    "close after headers, unprocessed": Spec(
        lambda: Fault.close_after_headers(process=False), error="RemoteProtocolError"
    ),
    "truncated body": Spec(Fault.truncated_body, error="RemoteProtocolError", processed=True),
    "truncated body, unprocessed": Spec(
        lambda: Fault.truncated_body(process=False), error="RemoteProtocolError"
    ),
    "stall before headers": Spec(lambda: Fault.delay(STALL, process=False), error="ReadTimeout"),
    "stall before headers, processed": Spec(
        lambda: Fault.delay(STALL, process=True), error="ReadTimeout", processed=True
    ),
    "stalled body": Spec(
        lambda: Fault.slow_body(chunk_delay=STALL, chunks=2), error="ReadTimeout", processed=True
    ),
    "slow body within the read timeout": Spec(
        lambda: Fault.slow_body(chunk_delay=0.01, chunks=3), status=200, processed=True
    ),
}
STATUS_CLASSES = {400: "FailedRequestError", 404: "NotFoundError", 429: "RateLimitError"}
RETRY_ON = frozenset({429, 500, 502, 503, 504})


def expected_outcome(method: str, faults: list[str], max_retries: int) -> tuple[str, int, int]:
    """(result, attempts, processed) as the retry contract defines them."""
    idempotent = method in IDEMPOTENT_METHODS
    processed = 0
    attempt = 0
    while True:
        spec = FAULTS[faults[attempt]] if attempt < len(faults) else Spec(Fault.reset, 200)
        processed += spec.processed or (spec.status == 200)
        attempt += 1
        retries_left = attempt <= max_retries
        if spec.status is not None:
            if spec.status < 400:
                return f"status {spec.status}", attempt, processed
            retryable = spec.status in RETRY_ON and (idempotent or spec.status == 429)
            if not (retryable and retries_left):
                name = STATUS_CLASSES.get(spec.status, "ServerError")
                return f"{name} {spec.status}", attempt, processed
        elif not (idempotent and retries_left):
            assert spec.error is not None
            return spec.error, attempt, processed


@given(
    method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "POST"]),
    faults=st.lists(st.sampled_from(sorted(FAULTS)), max_size=3),
    max_retries=st.integers(0, 3),
)
def test_each_fault_ends_the_same_way_on_every_backend(
    server: FakeServer, method: str, faults: list[str], max_retries: int
) -> None:
    """The same faults give the same exception class (or status), number of attempts, waits,
    processed and received requests on requests, httpx, urllib3 and MockTransport, and that
    outcome is the one the retry contract prescribes."""
    outcomes: dict[str, Outcome] = {}
    for backend in WITH_MOCK:
        app = CountingApp()
        sleeps, events = SleepRecorder(), EventRecorder()
        script = FaultScript() if backend == "mock" else server.faults
        reset_server(server, app)
        for name in faults:
            script.add(FAULTS[name].make(), path="^/v3/fault$")
        client = make_client(
            backend,
            server,
            app=app,
            faults=script,
            max_retries=max_retries,
            timeout=Timeout(5, read=READ),
            sleep=sleeps,
            random=lambda: 0.5,
            hooks=events,
        )
        with client:
            outcome, error = run_call(
                functools.partial(client.request, method, "/fault", content=b"payload"),
                events=events,
                sleeps=sleeps,
                app=app,
                received=None if backend == "mock" else (lambda: server.requests_received),
            )
        if backend != "mock":
            settle(server)
            assert outcome.received == outcome.attempts, "every attempt must reach the server"
        if isinstance(error, TransportError):
            assert error.__cause__ is not None or backend == "mock"
            assert len(error.attempts) == outcome.attempts
            assert error.outcome_unknown is (method not in IDEMPOTENT_METHODS)
        assert len(outcome.sleeps) <= outcome.attempts - 1  # a wait of 0 is not slept
        outcomes[backend] = outcome

    reference = outcomes["requests"]
    for backend in BACKENDS:
        assert outcomes[backend] == reference, (backend, outcomes)
    mock = outcomes["mock"]
    assert (mock.result, mock.attempts, mock.outcome_unknown, mock.sleeps, mock.processed) == (
        reference.result,
        reference.attempts,
        reference.outcome_unknown,
        reference.sleeps,
        reference.processed,
    ), outcomes
    result, attempts, processed = expected_outcome(method, faults, max_retries)
    assert (reference.result, reference.attempts, reference.processed) == (
        result,
        attempts,
        processed,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_undecodable_body_is_a_decoding_error(server: FakeServer, backend: str) -> None:
    """A body that does not match its Content-Encoding raises DecodingError on every backend,
    and is not retried (repeating cannot help). MockTransport does not decode: not applicable."""
    app = CountingApp()
    reset_server(server, app)
    sleeps, events = SleepRecorder(), EventRecorder()
    with (
        make_client(backend, server, sleep=sleeps, hooks=events) as client,
        pytest.raises(DecodingError) as info,
    ):
        client.request(
            "GET",
            "/gzip",
            headers={"X-Respond-Header-Content-Encoding": "gzip"},
            content=b"this is not gzip data",
        )
    settle(server)
    assert events.attempts == 1
    assert sleeps.calls == []
    assert app.calls == 1
    assert info.value.__cause__ is not None
