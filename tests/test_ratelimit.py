"""Rate limiters (TokenBucket, AdaptiveRateLimiter), header parsing and the rate-limited fake app.

Every limiter runs on an injected fake clock whose ``sleep`` advances it, so nothing here
really waits, except the one FakeServer test, which takes a fraction of a second.
"""

from __future__ import annotations

import json
import math
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawrapper import Datawrapper, DeadlineExceeded, Headers, MockTransport, Request
from datawrapper._ratelimit import (
    AdaptiveRateLimiter,
    RateLimiter,
    RateLimitInfo,
    TokenBucket,
    parse_rate_limit_headers,
)
from datawrapper.testing import FakeDatawrapperAPI, FakeServer
from datawrapper.testing._ratelimit import RateLimitedApp, _format_seconds, rate_limited

TOKEN = "test-token"
NO_HEADERS = Headers()


class FakeClock:
    """A monotonic clock that only moves when someone sleeps (or the test advances it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def bucket(clock: FakeClock, *, rate: float = 1.0, burst: float = 1.0, **kw: float) -> TokenBucket:
    return TokenBucket(rate=rate, burst=burst, clock=clock, sleep=clock.sleep, **kw)


def adaptive(clock: FakeClock, **kw: object) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(
        clock=clock,
        sleep=clock.sleep,
        wall_clock=lambda: 1_700_000_000.0 + clock.now,
        **kw,  # type: ignore[arg-type]
    )


def hdrs(**fields: str) -> Headers:
    return Headers([(k.replace("_", "-"), v) for k, v in fields.items()])


# --------------------------------------------------------------------------- TokenBucket


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rate": 0, "burst": 1}, "rate"),
        ({"rate": -1, "burst": 1}, "rate"),
        ({"rate": math.nan, "burst": 1}, "rate"),
        ({"rate": math.inf, "burst": 1}, "rate"),
        ({"rate": "10", "burst": 1}, "rate"),
        ({"rate": True, "burst": 1}, "rate"),
        ({"rate": 1, "burst": 0.5}, "burst"),
        ({"rate": 1, "burst": None}, "burst"),
        ({"rate": 1, "burst": 1, "max_pause": -1}, "max_pause"),
    ],
)
def test_token_bucket_rejects_bad_arguments_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    """Invalid rate, burst or max_pause raise ValueError naming that field."""
    with pytest.raises(ValueError, match=field):
        TokenBucket(**kwargs)  # type: ignore[arg-type]


def test_token_bucket_rejects_non_callable_clock() -> None:
    """A clock that cannot be called is refused at construction."""
    with pytest.raises(TypeError, match="clock"):
        TokenBucket(rate=1, burst=1, clock=5)  # type: ignore[arg-type]


def test_limiters_satisfy_the_protocol() -> None:
    """Both in-process limiters are RateLimiters for the client and the retry engine."""
    assert isinstance(TokenBucket(rate=1, burst=1), RateLimiter)
    assert isinstance(AdaptiveRateLimiter(), RateLimiter)


def test_bucket_starts_full_then_paces_at_the_rate() -> None:
    """``burst`` acquires go at once, the following ones one interval apart."""
    clock = FakeClock()
    limiter = bucket(clock, rate=4, burst=3)
    waits = [limiter.acquire() for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, 0.25, 0.25, 0.25]
    assert clock.now == pytest.approx(1000.75)


def test_bucket_refills_with_time_but_never_beyond_burst() -> None:
    """Idle time refills tokens at ``rate`` up to ``burst``, and no further."""
    clock = FakeClock()
    limiter = bucket(clock, rate=2, burst=5)
    for _ in range(5):
        limiter.acquire()
    assert limiter.tokens == pytest.approx(0.0)
    clock.advance(1.25)
    assert limiter.tokens == pytest.approx(2.5)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.25)]
    clock.advance(100)
    assert limiter.tokens == pytest.approx(5.0)


def test_acquire_raises_deadline_exceeded_without_sleeping_or_using_the_slot() -> None:
    """A wait longer than ``timeout`` raises at once, and the slot stays free for others."""
    clock = FakeClock()
    limiter = bucket(clock, rate=1, burst=1)
    limiter.acquire()
    with pytest.raises(DeadlineExceeded, match="1 s away"):
        limiter.acquire(timeout=0.5)
    assert clock.sleeps == []
    assert limiter.acquire(timeout=1.0) == pytest.approx(1.0)


def test_acquire_timeout_zero_admits_only_available_tokens() -> None:
    """``timeout=0`` admits exactly the tokens in the bucket."""
    clock = FakeClock()
    limiter = bucket(clock, rate=1, burst=3)
    admitted = 0
    for _ in range(5):
        try:
            limiter.acquire(timeout=0)
            admitted += 1
        except DeadlineExceeded:
            pass
    assert admitted == 3


@pytest.mark.parametrize("bad", [math.nan, "1", True])
def test_acquire_rejects_a_bad_timeout(bad: object) -> None:
    """A timeout that is not a number of seconds is a ValueError."""
    with pytest.raises(ValueError, match="timeout"):
        TokenBucket(rate=1, burst=1).acquire(timeout=bad)  # type: ignore[arg-type]


def test_concurrent_acquires_get_distinct_slots_in_order() -> None:
    """Threads asking at the same instant get the burst, then one slot per interval each."""
    clock = FakeClock()
    waits: list[float] = []
    limiter = TokenBucket(rate=10, burst=5, clock=clock, sleep=lambda s: None)
    start = threading.Barrier(40)
    lock = threading.Lock()

    def worker() -> None:
        start.wait(10)
        waited = limiter.acquire()
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    expected = [0.0] * 5 + [k / 10 for k in range(1, 36)]
    assert sorted(waits) == pytest.approx(expected)


def test_concurrent_timeout_zero_never_over_admits() -> None:
    """16 threads racing with ``timeout=0`` admit exactly ``burst`` requests in total."""
    limiter = TokenBucket(rate=1e-6, burst=50, clock=lambda: 0.0, sleep=lambda s: None)
    admitted = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait(10)
        for _ in range(10):
            try:
                limiter.acquire(timeout=0)
            except DeadlineExceeded:
                continue
            with lock:
                admitted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(admitted) == 50


def test_lock_is_not_held_while_sleeping() -> None:
    """While one thread sleeps for its slot, others can still use the limiter."""
    clock = FakeClock()
    release = threading.Event()
    sleeping = threading.Event()

    def blocking_sleep(seconds: float) -> None:
        sleeping.set()
        release.wait(10)
        clock.sleep(seconds)

    limiter = TokenBucket(rate=1, burst=1, clock=clock, sleep=blocking_sleep)
    limiter.acquire()
    waiter = threading.Thread(target=limiter.acquire)
    waiter.start()
    assert sleeping.wait(10)
    try:
        with pytest.raises(DeadlineExceeded):
            limiter.acquire(timeout=0)  # would deadlock if the sleeper held the lock
        limiter.feedback(status_code=200, headers=NO_HEADERS, retry_after=None)
    finally:
        release.set()
        waiter.join(10)
    assert not waiter.is_alive()


def test_retry_after_pauses_then_resumes_one_slot_apart() -> None:
    """A 429 with Retry-After pauses every thread; afterwards the bucket restarts empty."""
    clock = FakeClock()
    limiter = bucket(clock, rate=2, burst=10)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=3.0)
    assert limiter.paused_until == pytest.approx(1003.0)
    assert limiter.acquire() == pytest.approx(3.0)
    assert limiter.acquire() == pytest.approx(0.5)
    assert limiter.paused_until is None


def test_503_with_retry_after_pauses_but_200_changes_nothing() -> None:
    """503 + Retry-After pauses like a 429; a success leaves the bucket as it was."""
    clock = FakeClock()
    limiter = bucket(clock, rate=1, burst=2)
    limiter.feedback(status_code=200, headers=NO_HEADERS, retry_after=None)
    assert limiter.tokens == pytest.approx(2.0)
    limiter.feedback(status_code=503, headers=NO_HEADERS, retry_after=1.5)
    assert limiter.acquire() == pytest.approx(1.5)


def test_bare_429_empties_the_bucket() -> None:
    """A 429 without Retry-After leaves one token: no burst until the bucket refills."""
    clock = FakeClock()
    limiter = bucket(clock, rate=4, burst=8)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    assert limiter.tokens == pytest.approx(1.0)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.25, 0.25]


def test_pause_is_capped_and_never_shortened() -> None:
    """A huge Retry-After pauses at most ``max_pause``; a shorter pause keeps the longer one."""
    clock = FakeClock()
    limiter = bucket(clock, rate=1, burst=1, max_pause=10.0)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=3600.0)
    limiter.pause(1.0)
    assert limiter.paused_until == pytest.approx(1010.0)
    assert limiter.acquire() == pytest.approx(10.0)


def test_pause_recalls_a_slot_booked_before_it() -> None:
    """A thread sleeping for its slot when a pause arrives books again after the pause."""
    clock = FakeClock()
    sleeping = threading.Event()
    release = threading.Event()
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 1:
            sleeping.set()
            release.wait(10)
        clock.sleep(seconds)

    limiter = TokenBucket(rate=1, burst=1, clock=clock, sleep=sleep)
    limiter.acquire()
    result: list[float] = []
    waiter = threading.Thread(target=lambda: result.append(limiter.acquire()))
    waiter.start()
    assert sleeping.wait(10)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=5.0)
    release.set()
    waiter.join(10)
    assert calls == [pytest.approx(1.0), pytest.approx(4.0)]
    assert result == [pytest.approx(5.0)]


def test_bucket_paces_the_client_so_the_server_never_refuses() -> None:
    """A client with the server's budget sends 30 creations without one 429 (fake time)."""
    clock = FakeClock()
    api = FakeDatawrapperAPI()
    app = rate_limited(api, rate=5, burst=2, clock=clock)
    client = Datawrapper(
        TOKEN,
        base_url="https://api.example",
        transport=MockTransport(app),
        rate_limiter=bucket(clock, rate=5, burst=2),
        sleep=clock.sleep,
        clock=clock,
    )
    for i in range(30):
        client.create_chart(title=f"c{i}")
    assert (app.allowed, app.rejected, api.created_count) == (30, 0, 30)
    assert clock.now - 1000.0 == pytest.approx((30 - 2) / 5)


# --------------------------------------------------------------------------- headers


def test_parses_ietf_headers() -> None:
    """RateLimit-Limit/-Remaining/-Reset give limit, remaining and delta seconds."""
    info = parse_rate_limit_headers(
        hdrs(RateLimit_Limit="100, 100;w=60", RateLimit_Remaining="5", RateLimit_Reset="30")
    )
    assert info == RateLimitInfo(100.0, 5.0, 30.0)


@pytest.mark.parametrize(
    ("reset", "expected"),
    [
        ("30", 30.0),  # delta seconds
        ("1700000060", 60.0),  # epoch seconds
        ("1700000060000", 60.0),  # epoch milliseconds
        ("1699999000", 0.0),  # epoch in the past
        ("soon", None),  # garbage
    ],
)
def test_parses_x_ratelimit_reset_as_epoch_or_delta(reset: str, expected: float | None) -> None:
    """X-RateLimit-Reset is epoch seconds (or ms) when large, else delta seconds."""
    info = parse_rate_limit_headers(
        hdrs(X_RateLimit_Limit="60", X_RateLimit_Remaining="7", X_RateLimit_Reset=reset),
        now=1_700_000_000.0,
    )
    assert info == RateLimitInfo(60.0, 7.0, expected)


def test_parses_structured_ratelimit_field_of_both_drafts() -> None:
    """``RateLimit: limit=..`` (draft 7) and ``"p";r=..;t=..`` with RateLimit-Policy (8+)."""
    old = parse_rate_limit_headers(hdrs(RateLimit="limit=100, remaining=50, reset=5"))
    new = parse_rate_limit_headers(
        hdrs(RateLimit='"default";r=50;t=5', RateLimit_Policy='"default";q=100;w=60')
    )
    assert old == new == RateLimitInfo(100.0, 50.0, 5.0)


def test_ietf_headers_win_over_x_headers_and_negatives_clamp() -> None:
    """With both families present the IETF one is used; a negative remaining counts as 0."""
    info = parse_rate_limit_headers(
        hdrs(RateLimit_Remaining="-3", RateLimit_Reset="2", X_RateLimit_Remaining="99")
    )
    assert info == RateLimitInfo(None, 0.0, 2.0)


def test_no_or_garbage_headers_mean_no_information() -> None:
    """Without a usable remaining count there is nothing to pace from."""
    assert parse_rate_limit_headers(hdrs(Content_Type="text/plain")) is None
    assert parse_rate_limit_headers(hdrs(RateLimit_Remaining="many")) is None


_HEADER_NAMES = [
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit",
    "ratelimit-policy",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
]


@given(st.dictionaries(st.sampled_from(_HEADER_NAMES), st.text(max_size=40)))
def test_header_parser_never_raises_and_never_returns_negatives(fields: dict[str, str]) -> None:
    """Any header values give None or non-negative remaining and reset."""
    info = parse_rate_limit_headers(fields, now=1_700_000_000.0)
    if info is not None:
        assert info.remaining is not None and info.remaining >= 0
        assert info.reset is None or info.reset >= 0


# --------------------------------------------------------------------------- adaptive


def test_adaptive_rejects_bad_arguments() -> None:
    """Out-of-range tuning values raise ValueError naming the field."""
    for kwargs, field in (
        ({"beta": 1.0}, "beta"),
        ({"min_rate": 0}, "min_rate"),
        ({"max_rate": 0.1, "min_rate": 1}, "max_rate"),
        ({"headers_reserve": 2}, "headers_reserve"),
        ({"use_headers": "yes"}, "use_headers"),
    ):
        with pytest.raises(ValueError, match=field):
            AdaptiveRateLimiter(**kwargs)


def test_adaptive_starts_unthrottled() -> None:
    """Without any 429 or header, no request is delayed."""
    clock = FakeClock()
    limiter = adaptive(clock)
    assert [limiter.acquire() for _ in range(500)] == [0.0] * 500
    assert limiter.rate is None


def send_at(limiter: AdaptiveRateLimiter, clock: FakeClock, rate: float, seconds: float) -> None:
    """Acquire at ``rate`` per second for ``seconds`` (fake time)."""
    for _ in range(round(rate * seconds)):
        clock.advance(1.0 / rate)
        limiter.acquire()


def test_429_cuts_the_rate_to_beta_times_the_measured_rate() -> None:
    """After sending at 20/s, a 429 cuts the rate to 0.7 * 20 = 14/s and paces at it."""
    clock = FakeClock()
    limiter = adaptive(clock)
    send_at(limiter, clock, 20, 1.0)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    assert limiter.rate == pytest.approx(14.0)
    assert limiter.throttles == 1
    waits = [limiter.acquire() for _ in range(3)]
    assert waits[1:] == [pytest.approx(1 / 14, rel=1e-3)] * 2


def test_one_cut_per_congestion_event() -> None:
    """A 429 answering a request sent before the last cut does not cut again."""
    clock = FakeClock()
    limiter = adaptive(clock)
    send_at(limiter, clock, 20, 1.0)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    clock.advance(0.01)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    assert limiter.throttles == 1
    limiter.acquire()  # a request sent at the new rate ...
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)  # ... refused
    assert limiter.throttles == 2
    assert limiter.rate is not None and limiter.rate < 14.0


def test_rate_recovers_along_the_cubic_curve_then_unthrottles() -> None:
    """After a cut from 10/s the rate follows 0.4 (t - K)^3 + 10 and is dropped at 4 x 10."""
    clock = FakeClock()
    limiter = adaptive(clock)
    send_at(limiter, clock, 10, 1.0)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    k = (10 * 0.3 / 0.4) ** (1 / 3)
    assert limiter.rate == pytest.approx(7.0)
    for t in (0.5, k, k + 1.0, k + 3.0):
        clock.now = 1001.0 + t
        assert limiter.rate == pytest.approx(0.4 * (t - k) ** 3 + 10)
    clock.now = 1001.0 + k + (30 / 0.4) ** (1 / 3) + 0.01
    assert limiter.rate is None


def test_repeated_429s_never_push_the_rate_below_min_rate() -> None:
    """However many 429s arrive, the rate stays at or above ``min_rate``."""
    clock = FakeClock()
    limiter = adaptive(clock, min_rate=2.0)
    for _ in range(30):
        limiter.acquire()
        clock.advance(0.01)
        limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    assert limiter.throttles == 30
    assert limiter.rate == pytest.approx(2.0)


def test_max_rate_is_the_start_and_the_ceiling() -> None:
    """With ``max_rate`` the limiter paces at it from the start and never goes above it."""
    clock = FakeClock()
    limiter = adaptive(clock, max_rate=5.0)
    assert [limiter.acquire() for _ in range(3)] == [0.0, pytest.approx(0.2), pytest.approx(0.2)]
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    clock.advance(3600)
    assert limiter.rate == pytest.approx(5.0)


def test_adaptive_retry_after_pauses_every_thread() -> None:
    """A Retry-After pause delays the next acquire of any thread until it ends."""
    clock = FakeClock()
    limiter = adaptive(clock)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=2.5)
    assert limiter.paused_until == pytest.approx(1002.5)
    other: list[float] = []
    thread = threading.Thread(target=lambda: other.append(limiter.acquire()))
    thread.start()
    thread.join(10)
    assert other == [pytest.approx(2.5)]


def test_high_remaining_does_not_delay() -> None:
    """While the announced budget is above half the limit, requests are not delayed."""
    clock = FakeClock()
    limiter = adaptive(clock)
    limiter.feedback(
        status_code=200,
        headers=hdrs(RateLimit_Limit="100", RateLimit_Remaining="80", RateLimit_Reset="60"),
        retry_after=None,
    )
    assert [limiter.acquire() for _ in range(20)] == [0.0] * 20


def test_low_remaining_is_spread_evenly_until_the_reset() -> None:
    """10 requests left for 10 s go 1 s apart; after the reset nothing is delayed."""
    clock = FakeClock()
    limiter = adaptive(clock)
    limiter.feedback(
        status_code=200,
        headers=hdrs(RateLimit_Limit="100", RateLimit_Remaining="10", RateLimit_Reset="10"),
        retry_after=None,
    )
    waits = [limiter.acquire() for _ in range(13)]
    assert waits == [pytest.approx(1.0)] * 10 + [0.0] * 3


def test_zero_remaining_waits_for_the_reset() -> None:
    """``Remaining: 0`` pauses every thread until the announced reset."""
    clock = FakeClock()
    limiter = adaptive(clock)
    limiter.feedback(
        status_code=200,
        headers=hdrs(
            X_RateLimit_Limit="60",
            X_RateLimit_Remaining="0",
            X_RateLimit_Reset=str(1_700_000_000 + 1000 + 7),
        ),
        retry_after=None,
    )
    assert limiter.acquire() == pytest.approx(7.0)


def test_headers_are_ignored_when_switched_off() -> None:
    """``use_headers=False`` leaves pacing to 429s and Retry-After only."""
    clock = FakeClock()
    limiter = adaptive(clock, use_headers=False)
    limiter.feedback(
        status_code=200,
        headers=hdrs(RateLimit_Remaining="0", RateLimit_Reset="30"),
        retry_after=None,
    )
    assert limiter.acquire() == 0.0


def test_adaptive_with_headers_meets_the_server_limit_without_a_429() -> None:
    """Against a 10/s burst-20 server with headers, 100 creations see no 429 at >= 90% of 10/s."""
    clock = FakeClock()
    api = FakeDatawrapperAPI()
    app = rate_limited(api, rate=10, burst=20, clock=clock, wall_clock=lambda: 1e9 + clock.now)
    client = Datawrapper(
        TOKEN,
        base_url="https://api.example",
        transport=MockTransport(app),
        rate_limiter=adaptive(clock),
        sleep=clock.sleep,
        clock=clock,
    )
    for i in range(100):
        client.create_chart(title=f"c{i}")
    elapsed = clock.now - 1000.0
    assert (app.rejected, api.created_count) == (0, 100)
    assert elapsed >= (100 - 20) / 10  # no faster than the server allows ...
    assert 100 / elapsed >= 0.9 * 10  # ... and at least 90% of its limit


def test_adaptive_learns_the_limit_from_429s_alone() -> None:
    """Without headers, 200 creations all succeed and few requests are refused."""
    clock = FakeClock()
    api = FakeDatawrapperAPI()
    app = rate_limited(api, rate=10, burst=20, clock=clock, send_headers=False)
    limiter = adaptive(clock)
    client = Datawrapper(
        TOKEN,
        base_url="https://api.example",
        transport=MockTransport(app),
        rate_limiter=limiter,
        sleep=clock.sleep,
        clock=clock,
    )
    for i in range(200):
        client.create_chart(title=f"c{i}")
    assert api.created_count == 200
    assert limiter.throttles >= 1
    assert app.rejected <= 0.05 * (app.allowed + app.rejected)


# --------------------------------------------------------------------------- rate_limited


def post(app: RateLimitedApp, token: str = TOKEN) -> object:
    return app(
        Request(
            "POST",
            "https://api.example/v3/charts",
            Headers([("Authorization", f"Bearer {token}"), ("Content-Type", "application/json")]),
            b'{"title":"x"}',
        )
    )


def test_rate_limited_admits_the_burst_then_answers_429_without_calling_the_app() -> None:
    """After ``burst`` requests the wrapper answers a Boom 429 and the app sees nothing."""
    clock = FakeClock()
    api = FakeDatawrapperAPI()
    app = rate_limited(api, rate=3, burst=2, clock=clock)
    statuses = [post(app).status_code for _ in range(3)]  # type: ignore[attr-defined]
    assert statuses == [201, 201, 429]
    assert (app.allowed, app.rejected, api.created_count) == (2, 1, 2)
    refused = post(app)
    body = json.loads(refused.content)  # type: ignore[attr-defined]
    assert body["statusCode"] == 429 and body["error"] == "Too Many Requests"


def test_retry_after_is_rounded_up_and_waiting_that_long_is_admitted() -> None:
    """Retry-After (1/3 s rounded up to 0.4) is long enough for the next token."""
    clock = FakeClock()
    app = rate_limited(FakeDatawrapperAPI(), rate=3, burst=1, clock=clock)
    post(app)
    refused = post(app)
    assert refused.headers["Retry-After"] == "0.4"  # type: ignore[attr-defined]
    clock.advance(0.4)
    assert post(app).status_code == 201  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("seconds", "granularity", "text"),
    [
        (0.3333, 0.1, "0.4"),
        (0.3, 0.1, "0.3"),
        (2.0, 0.1, "2"),
        (0.01, 1, "1"),
        (1.1, 0.25, "1.25"),
        (0, 0.1, "0"),
    ],
)
def test_format_seconds_rounds_up_to_the_granularity(
    seconds: float, granularity: float, text: str
) -> None:
    """Seconds are rounded up, never down, to a multiple of the granularity."""
    assert _format_seconds(seconds, granularity) == text


def test_rate_limit_headers_describe_the_bucket() -> None:
    """Responses carry the limit, whole tokens left and the time until the bucket is full."""
    clock = FakeClock()
    app = rate_limited(
        FakeDatawrapperAPI(), rate=10, burst=20, clock=clock, wall_clock=lambda: 5000.0
    )
    for _ in range(14):
        response = post(app)
    h = response.headers  # type: ignore[attr-defined]
    assert (h["RateLimit-Limit"], h["RateLimit-Remaining"], h["RateLimit-Reset"]) == (
        "20",
        "6",
        "2",
    )
    assert h["RateLimit-Policy"] == "20;w=2"
    assert (h["X-RateLimit-Remaining"], h["X-RateLimit-Reset"]) == ("6", "5002")
    assert parse_rate_limit_headers(h, now=5000.0) == RateLimitInfo(20.0, 6.0, 2.0)


def test_send_headers_false_sends_only_retry_after() -> None:
    """Without headers a success carries none and a 429 only Retry-After."""
    app = rate_limited(FakeDatawrapperAPI(), rate=1, burst=1, clock=FakeClock(), send_headers=False)
    ok, refused = post(app), post(app)
    assert "RateLimit-Remaining" not in ok.headers  # type: ignore[attr-defined]
    assert "X-RateLimit-Remaining" not in refused.headers  # type: ignore[attr-defined]
    assert refused.headers["Retry-After"] == "1"  # type: ignore[attr-defined]


def test_per_token_buckets_are_independent() -> None:
    """With ``per_token`` each Authorization has its own bucket."""
    api = FakeDatawrapperAPI(tokens=["a-token", "b-token"])
    app = rate_limited(api, rate=1, burst=1, clock=FakeClock(), per_token=True)
    statuses = [post(app, t).status_code for t in ("a-token", "b-token", "a-token")]  # type: ignore[attr-defined]
    assert statuses == [201, 201, 429]


def test_counters_reset() -> None:
    """``reset()`` refills the buckets and zeroes the counters."""
    app = rate_limited(FakeDatawrapperAPI(), rate=1, burst=1, clock=FakeClock())
    post(app)
    post(app)
    app.reset()
    assert (app.allowed, app.rejected) == (0, 0)
    assert post(app).status_code == 201  # type: ignore[attr-defined]


def test_rate_limited_rejects_bad_arguments() -> None:
    """Bad rate or app raise errors that say what is wrong."""
    with pytest.raises(ValueError, match="rate"):
        rate_limited(FakeDatawrapperAPI(), rate=0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        rate_limited(FakeDatawrapperAPI(), rate=1, burst=0)
    with pytest.raises(TypeError, match="callable"):
        rate_limited("app", rate=1, burst=1)  # type: ignore[arg-type]


def test_fake_server_serves_a_rate_limited_api_over_real_sockets() -> None:
    """Over loopback HTTP, a paced client creates every chart and the counters add up."""
    api = FakeDatawrapperAPI()
    app = rate_limited(api, rate=100, burst=5)
    with (
        FakeServer(app) as server,
        Datawrapper(
            TOKEN, base_url=server.url, rate_limiter=TokenBucket(rate=100, burst=5)
        ) as client,
    ):
        for i in range(15):
            client.create_chart(title=f"c{i}")
        received = server.requests_received
    assert api.created_count == 15
    assert app.allowed == 15
    assert received == app.allowed + app.rejected
