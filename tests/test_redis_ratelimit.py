"""RedisRateLimiter against a real redis-server on 127.0.0.1 (no mock Redis).

The ``redis_server`` fixture starts ``redis-server`` from PATH on a free port (``--save ""
--appendonly no``), waits until it answers PING and stops it at the end; the tests are
skipped, with the reason, when redis-server is not installed (CI installs it with apt-get).
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from datawrapper import DeadlineExceeded, Headers
from datawrapper._ratelimit import RateLimiter, RedisRateLimiter
from datawrapper.testing._ratelimit import RedisServer

redis = pytest.importorskip("redis", reason="the redis package is needed: pip install '.[redis]'")

NO_HEADERS = Headers()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A throw-away redis-server for this module, or a skip saying why there is none."""
    if RedisServer.find() is None:
        pytest.skip(
            "redis-server is not installed (apt-get install redis-server); "
            "the RedisRateLimiter tests need a real one"
        )
    with RedisServer(startup_timeout=10.0) as server:
        yield server


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[Any]:
    """A redis-py client of the test server."""
    conn = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    yield conn
    conn.close()


@pytest.fixture
def key() -> str:
    """A fresh bucket key per test."""
    return f"test:{uuid.uuid4().hex}"


class Sleeps:
    """A sleep that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_redis_limiter_satisfies_the_protocol(client: Any, key: str) -> None:
    """RedisRateLimiter is a RateLimiter the client accepts."""
    assert isinstance(RedisRateLimiter(client, key=key, rate=1, burst=1), RateLimiter)


def test_burst_then_one_interval_of_redis_time(client: Any, key: str) -> None:
    """``burst`` acquires go at once; the next waits about one interval of Redis time."""
    sleeps = Sleeps()
    limiter = RedisRateLimiter(client, key=key, rate=1, burst=3, sleep=sleeps)
    waits = [limiter.acquire() for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0.5 < waits[3] <= 1.0
    assert sleeps.calls == [waits[3]]


def test_two_limiters_on_one_key_share_one_budget(client: Any, redis_server: RedisServer) -> None:
    """Two limiters (two connections) on the same key admit ``burst`` requests in total."""
    key = f"test:{uuid.uuid4().hex}"
    other = redis.Redis.from_url(redis_server.url)
    try:
        a = RedisRateLimiter(client, key=key, rate=0.001, burst=5)
        b = RedisRateLimiter(other, key=key, rate=0.001, burst=5)
        admitted = 0
        for limiter in (a, b) * 5:
            try:
                limiter.acquire(timeout=0)
                admitted += 1
            except DeadlineExceeded:
                pass
        assert admitted == 5
    finally:
        other.close()


def test_timeout_raises_without_using_up_the_slot(client: Any, key: str) -> None:
    """A slot further away than ``timeout`` raises at once and stays free."""
    sleeps = Sleeps()
    limiter = RedisRateLimiter(client, key=key, rate=1, burst=1, sleep=sleeps)
    limiter.acquire()
    with pytest.raises(DeadlineExceeded, match="RedisRateLimiter"):
        limiter.acquire(timeout=0.2)
    assert sleeps.calls == []
    assert 0.5 < limiter.acquire() <= 1.0  # not 2 s: the refused call booked nothing


def test_retry_after_pauses_every_user_of_the_key(client: Any, key: str) -> None:
    """A 429 with Retry-After reported by one limiter pauses another on the same key."""
    reporter = RedisRateLimiter(client, key=key, rate=10, burst=10)
    sleeps = Sleeps()
    other = RedisRateLimiter(client, key=key, rate=10, burst=10, sleep=sleeps)
    reporter.feedback(status_code=429, headers=NO_HEADERS, retry_after=0.5)
    with pytest.raises(DeadlineExceeded):
        other.acquire(timeout=0.1)
    first = other.acquire()
    assert 0.3 < first <= 0.5
    second = other.acquire()  # the bucket restarts empty: one interval (100 ms) later
    assert 0.05 < second - first <= 0.1 + 1e-6
    assert sleeps.calls == [first, second]


def test_pause_recalls_a_slot_booked_before_it(client: Any, key: str) -> None:
    """A process sleeping for its slot when a pause arrives books again after the pause."""
    sleeping = threading.Event()
    release = threading.Event()
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 1:
            sleeping.set()
            release.wait(10)

    limiter = RedisRateLimiter(client, key=key, rate=2, burst=1, sleep=sleep)
    limiter.acquire()
    waiter = threading.Thread(target=limiter.acquire)
    waiter.start()
    assert sleeping.wait(10)
    RedisRateLimiter(client, key=key, rate=2, burst=1).pause(3.0)
    release.set()
    waiter.join(10)
    assert len(calls) == 2
    assert 0.3 < calls[0] <= 0.5
    assert 2.5 < calls[1] <= 3.0


def test_bare_429_empties_the_shared_bucket(client: Any, key: str) -> None:
    """A 429 without Retry-After leaves one token: the second acquire waits an interval."""
    sleeps = Sleeps()
    limiter = RedisRateLimiter(client, key=key, rate=10, burst=10, sleep=sleeps)
    limiter.feedback(status_code=429, headers=NO_HEADERS, retry_after=None)
    assert limiter.acquire() == 0.0
    assert 0.05 < limiter.acquire() <= 0.1


def test_the_key_expires_once_the_bucket_is_full_again(client: Any, key: str) -> None:
    """The bucket hash gets a TTL of about the refill time, so idle keys disappear."""
    limiter = RedisRateLimiter(client, key=key, rate=10, burst=5)
    for _ in range(5):
        limiter.acquire()
    ttl = client.pttl(key)
    assert 1000 < ttl <= 500 + 1000 + 10


def test_url_constructor_and_repr_without_password(redis_server: RedisServer, key: str) -> None:
    """A URL works (the client is closed by ``close``), and repr never shows the URL."""
    with RedisRateLimiter(redis_server.url, key=key, rate=5, burst=2) as limiter:
        assert limiter.acquire() == 0.0
    secret = RedisRateLimiter("redis://:s3cret-pw@127.0.0.1:1/0", key=key, rate=1, burst=1)
    assert "s3cret" not in repr(secret)
    assert key in repr(secret)


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """Without the redis package a URL gives an ImportError naming datawrapper[redis]."""
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"datawrapper\[redis\]"):
        RedisRateLimiter("redis://127.0.0.1:6379/0", key=key, rate=1, burst=1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rate": 0, "burst": 1, "key": "k"}, "rate"),
        ({"rate": 1, "burst": 0, "key": "k"}, "burst"),
        ({"rate": 1, "burst": 1, "key": ""}, "key"),
        ({"rate": 1, "burst": 1, "key": "k", "max_pause": -1}, "max_pause"),
    ],
)
def test_bad_arguments_name_the_field(client: Any, kwargs: dict[str, Any], field: str) -> None:
    """Invalid rate, burst, key or max_pause raise ValueError naming that field."""
    with pytest.raises(ValueError, match=field):
        RedisRateLimiter(client, **kwargs)


def test_not_a_redis_client_is_refused() -> None:
    """Something that is neither a client nor a URL is a TypeError."""
    with pytest.raises(TypeError, match=r"redis\.Redis client"):
        RedisRateLimiter(42, key="k", rate=1, burst=1)


def test_unreachable_redis_raises_or_fails_open(
    redis_server: RedisServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With Redis down acquire raises, unless ``fail_open`` lets the request go with a warning."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(
        host="127.0.0.1", port=dead_port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    strict = RedisRateLimiter(dead, key=key, rate=1, burst=1)
    with pytest.raises(redis.ConnectionError):
        strict.acquire()
    lenient = RedisRateLimiter(dead, key=key, rate=1, burst=1, fail_open=True)
    with caplog.at_level(logging.WARNING, logger="datawrapper.ratelimit"):
        assert lenient.acquire() == 0.0
    assert "fail_open" in caplog.text and "127.0.0.1" not in caplog.text


# --------------------------------------------------------------------------- processes

RATE = 50.0
BURST = 10.0
WINDOW = 1.0


def _admit_until(
    url: str, key: str, ready: Any, start_at: Any, go: Any, results: Any, window: float
) -> None:
    """Child process: acquire from the shared bucket until the window ends; report times."""
    limiter = RedisRateLimiter(url, key=key, rate=RATE, burst=BURST)
    ready.set()
    go.wait(30)
    begin = start_at.value
    delay = begin - time.monotonic()
    if delay > 0:
        time.sleep(min(delay, 5.0))
    end = begin + window
    admitted: list[float] = []
    for _ in range(10_000):
        left = end - time.monotonic()
        if left <= 0:
            break
        try:
            limiter.acquire(timeout=left)
        except DeadlineExceeded:
            break
        admitted.append(time.monotonic())
    limiter.close()
    results.put(admitted)


def test_processes_sharing_a_key_respect_rate_times_window_plus_burst(
    redis_server: RedisServer, key: str
) -> None:
    """4 spawned processes on one key admit at most rate * span + burst in every window."""
    ctx = multiprocessing.get_context("spawn")
    readies = [ctx.Event() for _ in range(4)]
    go = ctx.Event()
    start_at = ctx.Value("d", 0.0)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_admit_until,
            args=(redis_server.url, key, ready, start_at, go, results, WINDOW),
        )
        for ready in readies
    ]
    for proc in procs:
        proc.start()
    try:
        for ready in readies:
            assert ready.wait(60), "a child process did not start"
        start_at.value = time.monotonic() + 0.2
        go.set()
        per_process = [results.get(timeout=60) for _ in procs]
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    times = sorted(t for admitted in per_process for t in admitted)
    assert all(per_process), "every process got at least one slot"
    assert len(times) > BURST  # the budget was used past the burst, by waiting
    # Slack: 1 token for rounding plus a wake-up up to 50 ms late on a busy machine. Without
    # the shared key the 4 processes would admit about 4 times as many.
    slack = 1 + RATE * 0.05
    for i in range(len(times)):
        for j in range(i, len(times)):
            count = j - i + 1
            assert count <= RATE * (times[j] - times[i]) + BURST + slack, (i, j)
    assert len(times) <= RATE * WINDOW + BURST + slack
