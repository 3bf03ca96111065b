"""Tests of the retry engine's decisions and loop, in-process with MockTransport and a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from datawrapper import (
    ConnectError,
    DeadlineExceeded,
    FailedRequestError,
    MockTransport,
    NotFoundError,
    RateLimitError,
    ReadTimeout,
    Request,
    Response,
    RetryPolicy,
    ServerError,
    Timeout,
    TLSError,
)
from datawrapper.transport import RetryEngine, parse_retry_after

URL = "https://api.example.test/v3/charts"


class FakeClock:
    """A monotonic clock that only moves when the engine sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(*outcomes: Response | Exception) -> tuple[MockTransport, Iterator[int]]:
    """A MockTransport answering with ``outcomes`` in order (the last one repeats)."""
    items = list(outcomes)
    count = iter(range(10_000))

    def handler(request: Request) -> Response:
        i = next(count)
        outcome = items[min(i, len(items) - 1)]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return MockTransport(handler), count


def engine(policy: RetryPolicy | None = None, clock: FakeClock | None = None) -> RetryEngine:
    clock = clock or FakeClock()
    return RetryEngine(
        policy or RetryPolicy(),
        clock=clock,
        sleep=clock.sleep,
        random=lambda: 0.0,
        wall_clock=lambda: 1_000_000.0,
    )


def send(eng: RetryEngine, transport: MockTransport, method: str = "GET", **kw: object) -> Response:
    return eng.send(transport, Request(method, URL), timeout=Timeout(5), **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ Retry-After parsing


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": " 2 "}, 2.0),
        ({"Retry-After": "-4"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": ""}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "x", "Retry-After": "9"}, 9.0),
        ({}, None),
    ],
)
def test_parse_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    """Seconds, fractions, milliseconds and garbage are parsed as documented."""
    from datawrapper import Headers

    assert parse_retry_after(Headers(headers), now=0) == expected


def test_parse_retry_after_http_date() -> None:
    """An HTTP-date gives the seconds from now until then, and a past date gives 0."""
    from datawrapper import Headers

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()
    future = format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=timezone.utc), usegmt=True)
    past = format_datetime(datetime(2025, 1, 1, tzinfo=timezone.utc), usegmt=True)
    assert parse_retry_after(Headers({"Retry-After": future}), now=now) == pytest.approx(30.0)
    assert parse_retry_after(Headers({"Retry-After": past}), now=now) == 0.0


# ------------------------------------------------------------------ statuses


def test_retries_retryable_status_then_succeeds() -> None:
    """Two 503s then a 200 give the 200 after two backoff waits."""
    clock = FakeClock()
    transport, _ = scripted(Response(503), Response(503), Response(200, content=b"ok"))
    response = send(engine(RetryPolicy(jitter=0), clock), transport)
    assert response.content == b"ok"
    assert len(transport.requests) == 3
    assert clock.sleeps == [0.5, 1.0]


def test_gives_up_after_max_retries_with_history() -> None:
    """After max_retries the status error carries every attempt."""
    transport, _ = scripted(Response(502))
    with pytest.raises(ServerError) as info:
        send(engine(RetryPolicy(max_retries=2)), transport)
    assert info.value.status_code == 502
    assert [a.status_code for a in info.value.attempts] == [502, 502, 502]
    assert len(transport.requests) == 3


def test_non_retryable_status_raises_at_once() -> None:
    """A 404 is not retried and raises NotFoundError with the Datawrapper message."""
    body = b'{"statusCode":404,"error":"Not Found","message":"Chart not found"}'
    transport, _ = scripted(Response(404, {"Content-Type": "application/json"}, body))
    with pytest.raises(NotFoundError) as info:
        send(engine(), transport)
    assert info.value.error_message == "Chart not found"
    assert "Chart not found" in str(info.value)
    assert len(transport.requests) == 1


def test_retry_after_replaces_backoff() -> None:
    """A 429 with Retry-After waits exactly what the server asked."""
    clock = FakeClock()
    transport, _ = scripted(Response(429, {"Retry-After": "2.5"}), Response(200))
    send(engine(clock=clock), transport)
    assert clock.sleeps == [2.5]


def test_retry_after_above_max_raises_at_once() -> None:
    """A wait above max_retry_after is not slept: RateLimitError carries retry_after."""
    clock = FakeClock()
    transport, _ = scripted(Response(429, {"Retry-After": "9999999999"}), Response(200))
    with pytest.raises(RateLimitError) as info:
        send(engine(clock=clock), transport)
    assert info.value.retry_after == 9999999999.0
    assert clock.sleeps == []
    assert len(transport.requests) == 1


def test_garbage_retry_after_falls_back_to_backoff() -> None:
    """An unparseable Retry-After is ignored and the backoff is used."""
    clock = FakeClock()
    transport, _ = scripted(Response(429, {"Retry-After": "later"}), Response(200))
    send(engine(RetryPolicy(jitter=0), clock), transport)
    assert clock.sleeps == [0.5]


def test_final_429_raises_rate_limit_error_with_attempts() -> None:
    """When 429s outlast the retries, RateLimitError says how many attempts were made."""
    transport, _ = scripted(Response(429, {"Retry-After": "1"}))
    with pytest.raises(RateLimitError) as info:
        send(engine(RetryPolicy(max_retries=3)), transport)
    assert len(info.value.attempts) == 4
    assert info.value.attempt_count == 4
    assert info.value.retry_after == 1.0
    assert "4 attempts" in str(info.value)


# ------------------------------------------------------------------ POST safety


def test_post_retried_on_429() -> None:
    """POST is retried on 429: the server refused it without processing."""
    transport, _ = scripted(Response(429, {"Retry-After": "0"}), Response(201))
    assert send(engine(), transport, "POST").status_code == 201
    assert len(transport.requests) == 2


def test_post_not_retried_on_503() -> None:
    """POST is not retried on a 5xx, which may have been processed."""
    transport, _ = scripted(Response(503), Response(201))
    with pytest.raises(ServerError, match="may have processed") as info:
        send(engine(), transport, "POST")
    assert info.value.outcome_unknown is True
    assert len(transport.requests) == 1


def test_post_retried_on_error_before_send() -> None:
    """POST is retried after a connect error: the request never left."""
    transport, _ = scripted(ConnectError("refused"), Response(201))
    assert send(engine(), transport, "POST").status_code == 201
    assert len(transport.requests) == 2


def test_post_not_retried_after_read_timeout_outcome_unknown() -> None:
    """A POST that timed out after sending is not retried and says the outcome is unknown."""
    transport, _ = scripted(ReadTimeout("slow"), Response(201))
    with pytest.raises(ReadTimeout) as info:
        send(engine(), transport, "POST")
    assert info.value.outcome_unknown is True
    assert "outcome is unknown" in str(info.value)
    assert len(transport.requests) == 1


def test_post_opt_in_retries_after_send() -> None:
    """retry_non_idempotent=True retries a POST after a read timeout and a 503."""
    transport, _ = scripted(ReadTimeout("slow"), Response(503), Response(201))
    response = send(engine(RetryPolicy(retry_non_idempotent=True)), transport, "POST")
    assert response.status_code == 201
    assert len(transport.requests) == 3


def test_idempotent_post_is_retried_like_put() -> None:
    """A POST marked idempotent (e.g. publish) is retried after a 503."""
    transport, _ = scripted(Response(503), Response(200))
    assert send(engine(), transport, "POST", idempotent=True).status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_idempotent_methods_retried_after_read_timeout(method: str) -> None:
    """Idempotent methods (and PATCH, a deep merge) are retried after a read timeout."""
    transport, _ = scripted(ReadTimeout("slow"), Response(200))
    assert send(engine(), transport, method).status_code == 200


def test_tls_error_never_retried() -> None:
    """A TLS failure is raised at once: repeating cannot help."""
    transport, _ = scripted(TLSError("bad cert"), Response(200))
    with pytest.raises(TLSError):
        send(engine(), transport)
    assert len(transport.requests) == 1


def test_transport_errors_can_be_switched_off() -> None:
    """retry_transport_errors=False raises the first connect error."""
    transport, _ = scripted(ConnectError("refused"), Response(200))
    with pytest.raises(ConnectError):
        send(engine(RetryPolicy(retry_transport_errors=False)), transport)


def test_max_retries_zero_means_one_attempt() -> None:
    """max_retries=0 makes exactly one attempt."""
    transport, _ = scripted(Response(503))
    with pytest.raises(ServerError):
        send(engine(RetryPolicy(max_retries=0)), transport)
    assert len(transport.requests) == 1


# ------------------------------------------------------------------ deadline


def test_deadline_stops_before_sleeping_past_it() -> None:
    """No wait is started that would end after the deadline; the last error is raised."""
    clock = FakeClock()
    transport, _ = scripted(Response(503, {"Retry-After": "3"}))
    with pytest.raises(ServerError, match="deadline"):
        send(engine(RetryPolicy(max_retries=10), clock), transport, deadline=7.0)
    assert sum(clock.sleeps) <= 7.0
    assert clock.sleeps == [3.0, 3.0]


def test_deadline_caps_attempt_timeout() -> None:
    """The last attempt's timeout is shortened to the time left before the deadline."""
    clock = FakeClock()
    transport, _ = scripted(Response(503, {"Retry-After": "2"}), Response(200))
    send(engine(clock=clock), transport, deadline=3.0)
    assert transport.timeouts[0].read == 3.0
    assert transport.timeouts[1].read == pytest.approx(1.0)


def test_deadline_already_passed_raises_deadline_exceeded() -> None:
    """When a rate limiter's wait uses up the deadline, DeadlineExceeded is raised."""
    clock = FakeClock()

    class SlowLimiter:
        def acquire(self, *, timeout: float | None = None) -> float:
            clock.now += 10
            return 10.0

        def feedback(self, **kwargs: object) -> None:
            pass

    transport, _ = scripted(Response(200))
    with pytest.raises(DeadlineExceeded):
        send(engine(clock=clock), transport, deadline=5.0, rate_limiter=SlowLimiter())
    assert transport.requests == []


# ------------------------------------------------------------------ hooks


def test_hooks_see_request_response_retry_and_error() -> None:
    """Hooks receive one event per attempt start, response, retry and the final error."""
    events: list[tuple[str, int, int | None]] = []
    transport, _ = scripted(Response(503), Response(404))
    hook: Callable[..., None] = lambda e: events.append((e.kind, e.attempt, e.status_code))  # noqa: E731
    with pytest.raises(FailedRequestError):
        send(engine(), transport, hooks=[hook], backend="mock")
    assert events == [
        ("request", 1, None),
        ("response", 1, 503),
        ("retry", 1, 503),
        ("request", 2, None),
        ("response", 2, 404),
        ("error", 2, 404),
    ]


def test_failing_hook_does_not_break_the_request(caplog: pytest.LogCaptureFixture) -> None:
    """An exception in a hook is logged and the request still succeeds."""

    def broken(event: object) -> None:
        raise RuntimeError("boom")

    transport, _ = scripted(Response(200))
    assert send(engine(), transport, hooks=[broken]).status_code == 200
    assert "hook" in caplog.text and "boom" in caplog.text
