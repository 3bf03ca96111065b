"""Conformance: a 429's Retry-After is honoured the same way on every backend.

The wait is observed through the client's injected sleep, so nothing really waits: integer
and fractional seconds, an HTTP-date, ``retry-after-ms``, negative values (no wait), garbage
(the backoff instead), and a wait above ``max_retry_after``, which raises RateLimitError at
once with ``.retry_after`` set.
"""

from __future__ import annotations

import email.utils
import time

import pytest
from _conformance import (
    WITH_MOCK,
    CountingApp,
    EventRecorder,
    SleepRecorder,
    make_client,
    reset_server,
    settle,
)
from hypothesis import given
from hypothesis import strategies as st

from datawrapper import RateLimitError, RetryPolicy
from datawrapper.testing import FakeServer, Fault, FaultScript

MAX_RETRY_AFTER = 60.0
BACKOFF = 0.5 * (1 - 0.5 * 0.5)  # first backoff: factor 0.5, jitter 0.5, random() = 0.5


def _call_after_429(
    server: FakeServer, backend: str, fault: Fault, method: str
) -> tuple[SleepRecorder, EventRecorder, CountingApp, object]:
    app = CountingApp()
    script = FaultScript() if backend == "mock" else server.faults
    reset_server(server, app)
    script.add(fault, path="^/v3/limited$")
    sleeps, events = SleepRecorder(), EventRecorder()
    policy = RetryPolicy(max_retries=2, max_retry_after=MAX_RETRY_AFTER)
    with make_client(
        backend,
        server,
        app=app,
        faults=script,
        retry=policy,
        sleep=sleeps,
        random=lambda: 0.5,
        hooks=events,
    ) as client:
        try:
            result: object = client.request(method, "/limited", content=b"x")
        except RateLimitError as exc:
            result = exc
    if backend != "mock":
        settle(server)
    return sleeps, events, app, result


def _seconds_text(value: float, kind: str) -> str:
    return str(int(value)) if kind == "integer" else f"{value:.3f}"


@pytest.mark.parametrize("backend", WITH_MOCK)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    kind=st.sampled_from(["integer", "fraction", "milliseconds", "negative", "garbage"]),
    value=st.floats(0, MAX_RETRY_AFTER),
    garbage=st.sampled_from(["soon", "1s", "0x10", "NaN", "inf", "", "1e999", "\u0661"]),
)
def test_retry_after_is_the_wait(
    server: FakeServer, backend: str, method: str, kind: str, value: float, garbage: str
) -> None:
    """After a 429 the client sleeps exactly what Retry-After or retry-after-ms asks for
    (any method: a 429 was not processed), no time for a negative value, and its own backoff
    for garbage; the retry then succeeds."""
    if kind == "milliseconds":
        fault = Fault.rate_limited(str(int(value * 1000)), header="retry-after-ms")
        expected = int(value * 1000) / 1000
    elif kind == "negative":
        fault = Fault.rate_limited(f"-{value:.3f}")
        expected = 0.0
    elif kind == "garbage":
        fault = Fault.rate_limited(garbage)
        expected = BACKOFF
    else:
        text = _seconds_text(value, kind)
        fault = Fault.rate_limited(text)
        expected = float(text)
    sleeps, events, app, result = _call_after_429(server, backend, fault, method)
    assert not isinstance(result, RateLimitError), result
    assert events.attempts == 2
    assert app.calls == 1
    assert sum(sleeps.calls) == pytest.approx(expected, abs=1e-9)
    assert len(sleeps.calls) == (1 if expected > 0 else 0)


@pytest.mark.parametrize("backend", WITH_MOCK)
@given(ahead=st.integers(1, int(MAX_RETRY_AFTER) - 2))
def test_retry_after_http_date(server: FakeServer, backend: str, ahead: int) -> None:
    """An HTTP-date Retry-After makes the client sleep until that moment (to the second the
    format has, give or take the time the call took)."""
    fault = Fault.rate_limited(email.utils.formatdate(time.time() + ahead, usegmt=True))
    sleeps, events, _app, result = _call_after_429(server, backend, fault, "GET")
    assert not isinstance(result, RateLimitError), result
    assert events.attempts == 2
    assert len(sleeps.calls) == 1
    assert ahead - 1.5 <= sleeps.calls[0] <= ahead + 0.5


@pytest.mark.parametrize("backend", WITH_MOCK)
@given(
    wait=st.floats(MAX_RETRY_AFTER + 2, 10**9),
    form=st.sampled_from(["seconds", "milliseconds", "date"]),
)
def test_huge_retry_after_raises_at_once(
    server: FakeServer, backend: str, wait: float, form: str
) -> None:
    """A wait above max_retry_after is not slept: RateLimitError comes at once, after one
    attempt, with .retry_after saying what the server asked for."""
    if form == "seconds":
        fault, expected, tolerance = Fault.rate_limited(str(int(wait))), float(int(wait)), 0.0
    elif form == "milliseconds":
        ms = int(wait * 1000)
        fault = Fault.rate_limited(str(ms), header="retry-after-ms")
        expected, tolerance = ms / 1000, 0.0
    else:
        wait = min(wait, 10**8)  # an HTTP-date must stay within years 1970..9999
        fault = Fault.rate_limited(email.utils.formatdate(time.time() + wait, usegmt=True))
        expected, tolerance = wait, 2.0
    sleeps, events, app, result = _call_after_429(server, backend, fault, "POST")
    assert isinstance(result, RateLimitError)
    assert result.retry_after is not None
    assert result.retry_after == pytest.approx(expected, abs=tolerance)
    assert result.status_code == 429
    assert len(result.attempts) == 1
    assert events.attempts == 1
    assert sleeps.calls == []
    assert app.calls == 0
