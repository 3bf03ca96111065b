"""Rate limits for tests: a token-bucket wrapper for any fake app, and a throw-away Redis.

- :func:`rate_limited` (:class:`RateLimitedApp`): wraps an application (``Request ->
  Response``) such as :class:`~datawrapper.testing.FakeDatawrapperAPI` with a server-side
  token bucket that answers 429 with ``Retry-After`` and, optionally, rate-limit headers::

      app = rate_limited(FakeDatawrapperAPI(), rate=10, burst=20)
      with FakeServer(app) as server:
          ...
      print(app.allowed, app.rejected)

- :class:`RedisServer`: starts ``redis-server`` on a free 127.0.0.1 port for the duration of
  a test or benchmark, for :class:`~datawrapper.RedisRateLimiter`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType

from ..transport._models import Headers, Request, Response
from ._faults import App, boom_body

__all__ = ["RateLimitedApp", "RedisServer", "rate_limited"]

logger = logging.getLogger("datawrapper.testing")


def _positive(name: str, value: object, *, minimum: float, inclusive: bool) -> float:
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"rate_limited {name} must be a number {bound}, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or (number < minimum if inclusive else number <= minimum):
        raise ValueError(f"rate_limited {name} must be a finite number {bound}, got {value!r}")
    return number


def _format_seconds(seconds: float, granularity: float) -> str:
    """``seconds`` rounded up to a multiple of ``granularity``: ``"0.3"``, ``"2"``, ``"1.25"``."""
    steps = max(math.ceil(seconds / granularity - 1e-9), 0)
    text = f"{steps * granularity:.6f}".rstrip("0").rstrip(".")
    return text or "0"


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimitedApp:
    """An application wrapped in a server-side token bucket (see :func:`rate_limited`).

    Each request takes one token; the bucket holds at most ``burst`` and gains ``rate``
    tokens a second, starting full. A request that finds less than one token is not passed
    to the wrapped app: it gets a 429 with a Boom JSON body and ``Retry-After`` = the seconds
    until a token is available, rounded *up* to ``retry_after_granularity`` (0.1 s by default:
    ``"0.3"``; with 1 an integer: ``"1"``), so a client that waits that long is admitted.

    With ``send_headers`` every response (429s included) also carries:

    - ``RateLimit-Limit: <burst>``, ``RateLimit-Remaining: <whole tokens left>``,
      ``RateLimit-Reset: <seconds until the bucket is full again, rounded up to an integer>``
      and ``RateLimit-Policy: <burst>;w=<burst / rate>`` (IETF draft style);
    - ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` = the epoch
      second (from ``wall_clock``, rounded up) at which the bucket is full again (GitHub
      style).

    ``per_token=True`` keeps one bucket per ``Authorization`` header (requests without one
    share a bucket). Counters :attr:`allowed` and :attr:`rejected` are thread-safe;
    :meth:`reset` refills every bucket and zeroes them. ``clock`` (monotonic seconds) is
    injectable.
    """

    def __init__(
        self,
        app: App,
        *,
        rate: float,
        burst: float,
        per_token: bool = False,
        send_headers: bool = True,
        retry_after_granularity: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(app):
            raise TypeError(f"rate_limited app must be callable, got {type(app).__name__}")
        self.app = app
        self.rate = _positive("rate", rate, minimum=0, inclusive=False)
        self.burst = _positive("burst", burst, minimum=1, inclusive=True)
        self.retry_after_granularity = _positive(
            "retry_after_granularity", retry_after_granularity, minimum=0, inclusive=False
        )
        for name, flag in (("per_token", per_token), ("send_headers", send_headers)):
            if not isinstance(flag, bool):
                raise ValueError(f"rate_limited {name} must be True or False, got {flag!r}")
        for name, fn in (("clock", clock), ("wall_clock", wall_clock)):
            if not callable(fn):
                raise TypeError(f"rate_limited {name} must be callable, got {type(fn).__name__}")
        self.per_token = per_token
        self.send_headers = send_headers
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._allowed = 0
        self._rejected = 0

    def __repr__(self) -> str:
        return (
            f"<RateLimitedApp rate={self.rate:g}/s burst={self.burst:g} "
            f"allowed={self.allowed} rejected={self.rejected}>"
        )

    @property
    def allowed(self) -> int:
        """Requests passed to the wrapped app."""
        with self._lock:
            return self._allowed

    @property
    def rejected(self) -> int:
        """Requests answered 429 by the bucket."""
        with self._lock:
            return self._rejected

    def reset(self) -> None:
        """Refill every bucket and zero the counters."""
        with self._lock:
            self._buckets.clear()
            self._allowed = 0
            self._rejected = 0

    def _key(self, request: Request) -> str:
        if not self.per_token:
            return ""
        auth = request.headers.get("authorization", "")
        # Keyed by a digest so that no token is kept in memory in the clear.
        return hashlib.sha256(auth.encode("utf-8")).hexdigest() if auth else ""

    def _take(self, key: str) -> tuple[bool, float]:
        """(admitted, tokens left after this request) for one request on bucket ``key``."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            elapsed = max(now - bucket.stamp, 0.0)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                self._allowed += 1
                return True, bucket.tokens
            self._rejected += 1
            return False, bucket.tokens

    def _headers(self, tokens: float) -> list[tuple[str, str]]:
        if not self.send_headers:
            return []
        to_full = (self.burst - tokens) / self.rate
        limit = str(int(self.burst)) if self.burst == int(self.burst) else f"{self.burst:g}"
        remaining = str(max(math.floor(tokens + 1e-9), 0))
        reset = str(math.ceil(to_full - 1e-9))
        window = _format_seconds(self.burst / self.rate, 0.001)
        return [
            ("RateLimit-Limit", limit),
            ("RateLimit-Remaining", remaining),
            ("RateLimit-Reset", reset),
            ("RateLimit-Policy", f"{limit};w={window}"),
            ("X-RateLimit-Limit", limit),
            ("X-RateLimit-Remaining", remaining),
            ("X-RateLimit-Reset", str(math.ceil(self._wall_clock() + to_full))),
        ]

    def __call__(self, request: Request) -> Response:
        admitted, tokens = self._take(self._key(request))
        if not admitted:
            wait = (1.0 - tokens) / self.rate
            retry_after = _format_seconds(wait, self.retry_after_granularity)
            headers = [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Retry-After", retry_after),
                *self._headers(tokens),
            ]
            body = boom_body(429, f"Rate limit exceeded: retry in {retry_after} s")
            return Response(status_code=429, headers=Headers(headers), content=body)
        response = self.app(request)
        extra = self._headers(tokens)
        if not extra or not isinstance(response, Response):
            return response
        return replace(response, headers=response.headers.merged(extra))


def rate_limited(
    app: App,
    *,
    rate: float,
    burst: float,
    per_token: bool = False,
    send_headers: bool = True,
    retry_after_granularity: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> RateLimitedApp:
    """``app`` behind a token bucket of ``rate`` requests/s and ``burst``: a
    :class:`RateLimitedApp`, usable wherever an app is (``FakeServer(rate_limited(...))``,
    ``MockTransport(rate_limited(...))``)."""
    return RateLimitedApp(
        app,
        rate=rate,
        burst=burst,
        per_token=per_token,
        send_headers=send_headers,
        retry_after_granularity=retry_after_granularity,
        clock=clock,
        wall_clock=wall_clock,
    )


# --------------------------------------------------------------------------- Redis


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(port: int, timeout: float) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A throw-away ``redis-server`` on a free 127.0.0.1 port, without persistence.

    ::

        if RedisServer.find() is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        with RedisServer() as server:
            limiter = RedisRateLimiter(server.url, key="test", rate=10, burst=20)

    :meth:`start` runs ``redis-server --port P --bind 127.0.0.1 --save "" --appendonly no``
    in a temporary directory and waits (at most ``startup_timeout`` seconds) until it
    answers ``PING``; :meth:`stop` terminates it (kills it after 5 s) and removes the
    directory. ``RuntimeError`` if it does not come up, with the end of its log.
    """

    def __init__(self, *, executable: str | None = None, startup_timeout: float = 10.0) -> None:
        found = executable or self.find()
        if found is None:
            raise FileNotFoundError(
                "redis-server is not on PATH: install it (apt-get install redis-server, "
                "brew install redis) or pass RedisServer(executable=...)"
            )
        self.executable = found
        self.startup_timeout = startup_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    @staticmethod
    def find() -> str | None:
        """The path of ``redis-server`` on PATH, or None."""
        return shutil.which("redis-server")

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        if not self.port:
            raise RuntimeError("RedisServer is not started")
        return f"redis://127.0.0.1:{self.port}/0"

    def _log_tail(self) -> str:
        if self._dir is None:
            return ""
        with contextlib.suppress(OSError), open(os.path.join(self._dir, "redis.log"), "rb") as f:
            return f.read()[-2000:].decode("utf-8", "replace")
        return ""

    def start(self) -> RedisServer:
        """Start the server (up to 3 ports are tried); return self."""
        if self._process is not None:
            return self
        self._dir = tempfile.mkdtemp(prefix="dw-redis-")
        for _ in range(3):
            port = _free_port()
            log = open(os.path.join(self._dir, "redis.log"), "ab")  # noqa: SIM115
            try:
                args = [self.executable, "--port", str(port), "--bind", "127.0.0.1"]
                args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
                args += ["--dir", self._dir]
                process = subprocess.Popen(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            finally:
                log.close()
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline and process.poll() is None:
                if _ping(port, 0.5):
                    self._process = process
                    self.port = port
                    return self
                time.sleep(0.05)
            self._terminate(process)
        tail = self._log_tail()
        self._cleanup_dir()
        raise RuntimeError(f"redis-server did not answer PING on 127.0.0.1; its log:\n{tail}")

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def _cleanup_dir(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def stop(self) -> None:
        """Stop the server and remove its directory. Idempotent."""
        if self._process is not None:
            self._terminate(self._process)
            self._process = None
        self.port = 0
        self._cleanup_dir()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self.port}" if self.port else "stopped"
        return f"<RedisServer {state}>"
