"""The configuration every backend shares: :class:`Timeout`, :class:`PoolConfig`, :class:`RetryPolicy`.

All three are small frozen dataclasses, validated at construction: a bad value raises
:class:`ValueError` naming the field and saying what would be accepted. Use
:func:`dataclasses.replace` (or the ``with_`` helpers) to derive a changed copy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_RETRY_ON", "PoolConfig", "RetryPolicy", "Timeout"]

DEFAULT_RETRY_ON: frozenset[int] = frozenset({429, 500, 502, 503, 504})

_UNSET: Any = object()


def _seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a float number of seconds, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"{name} must be a number of seconds, got {type(value).__name__} {value!r}"
        )
    seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")
    return seconds


@dataclass(frozen=True, init=False, slots=True)
class Timeout:
    """Per-attempt time limits in seconds, the same on every backend.

    - ``connect``: to open the TCP connection and finish the TLS handshake.
    - ``read``: the longest wait for the next bytes of the response (not the whole response).
    - ``write``: the longest wait for the socket to accept more of the request. httpx honours
      it; requests and urllib3 cannot set it apart: their socket keeps the ``connect`` limit
      until the request is sent, so there ``connect`` bounds each write.
    - ``pool``: the longest wait for a free connection when ``PoolConfig.max_connections`` are
      all busy.
    - ``total`` (optional, default None): a limit on the whole attempt, from asking for a
      connection to the last byte of the body, so a body that trickles in slowly cannot run
      past it. The retry engine sets it from the call's deadline; you may set it yourself.

    ``Timeout(10)`` sets connect, read, write and pool; keywords override single fields:
    ``Timeout(10, read=60)``. There is no infinite timeout: a request that may take an hour
    says so with ``read=3600``. Defaults: connect 5 s (a healthy handshake takes well under a
    second, even across oceans), read 30 s and write 30 s (the community client's POST limit, which
    publishing needed), pool 10 s.
    """

    connect: float
    read: float
    write: float
    pool: float
    total: float | None

    def __init__(
        self,
        timeout: float | Timeout | None = None,
        *,
        connect: float = _UNSET,
        read: float = _UNSET,
        write: float = _UNSET,
        pool: float = _UNSET,
        total: float | None = None,
    ) -> None:
        if isinstance(timeout, Timeout):
            if total is None:
                total = timeout.total
            base = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        elif timeout is None:
            base = (5.0, 30.0, 30.0, 10.0)
        else:
            t = _seconds("Timeout", timeout)
            base = (t, t, t, t)
        values = {}
        for name, given, default in zip(
            ("connect", "read", "write", "pool"), (connect, read, write, pool), base, strict=True
        ):
            if given is None:
                raise ValueError(
                    f"Timeout.{name} must be a number of seconds, got None: there is no "
                    f"infinite timeout; pass a large value such as {name}=3600 instead"
                )
            values[name] = default if given is _UNSET else _seconds(f"Timeout.{name}", given)
        object.__setattr__(self, "connect", values["connect"])
        object.__setattr__(self, "read", values["read"])
        object.__setattr__(self, "write", values["write"])
        object.__setattr__(self, "pool", values["pool"])
        object.__setattr__(
            self, "total", None if total is None else _seconds("Timeout.total", total)
        )

    def capped(self, remaining: float) -> Timeout:
        """A copy where no field exceeds ``remaining`` seconds (used to honour a deadline)."""
        remaining = max(remaining, 0.001)
        if self.total is not None and self.total <= remaining:
            return self
        return Timeout(
            connect=min(self.connect, remaining),
            read=min(self.read, remaining),
            write=min(self.write, remaining),
            pool=min(self.pool, remaining),
            total=remaining,
        )

    def __repr__(self) -> str:
        total = "" if self.total is None else f", total={self.total:g}"
        return (
            f"Timeout(connect={self.connect:g}, read={self.read:g}, "
            f"write={self.write:g}, pool={self.pool:g}{total})"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PoolConfig:
    """How many connections a client keeps, the same on every backend.

    - ``max_connections`` (10): at most this many connections are open at once, across hosts.
      More concurrent calls wait for a free one up to ``Timeout.pool`` and then raise
      :class:`~datawrapper.PoolTimeout`. Ten covers the default bulk worker count with room,
      and keeps a client far below server connection limits.
    - ``max_keepalive_connections`` (10): idle connections kept for reuse; a connection
      that comes back when this many are idle is closed. Honoured on every backend (httpx
      natively; requests and urllib3 by sizing their pools to it).
    - ``keepalive_expiry`` (15 s): an idle connection older than this is closed instead of
      reused. httpx applies it per connection; requests and urllib3 apply it to the whole pool
      (after that much idle time every kept connection is dropped), and both also detect
      connections the server has closed before reusing them.
    - ``block`` (True): wait for a free connection; False raises
      :class:`~datawrapper.PoolTimeout` at once when all are busy.
    """

    max_connections: int = 10
    max_keepalive_connections: int = 10
    keepalive_expiry: float = 15.0
    block: bool = True

    def __post_init__(self) -> None:
        for name in ("max_connections", "max_keepalive_connections"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"PoolConfig.{name} must be an int >= 1, got {value!r}")
        if self.max_keepalive_connections > self.max_connections:
            raise ValueError(
                f"PoolConfig.max_keepalive_connections ({self.max_keepalive_connections}) must "
                f"not exceed max_connections ({self.max_connections})"
            )
        object.__setattr__(
            self, "keepalive_expiry", _seconds("PoolConfig.keepalive_expiry", self.keepalive_expiry)
        )
        if not isinstance(self.block, bool):
            raise ValueError(f"PoolConfig.block must be True or False, got {self.block!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """When and how long to wait before trying a failed request again.

    Defaults, and why:

    - ``max_retries=3``: four attempts ride out a typical blip (a deploy, a load-balancer
      hiccup) of a few seconds without turning an outage into a long hang.
    - ``retry_on={429, 500, 502, 503, 504}``: rate limiting and the statuses of an overloaded
      or restarting server. 501 and 505 are permanent and never worth repeating.
    - ``backoff_factor=0.5``, ``backoff_max=8.0``: the wait before retry *n* (1-based) is
      ``min(backoff_max, backoff_factor * 2 ** (n - 1))``, i.e. 0.5, 1, 2, 4, 8, 8 ... seconds.
    - ``jitter=0.5``: each wait is multiplied by a random factor in ``[1 - jitter, 1]`` so that
      many clients refused at once do not come back at once.
    - ``respect_retry_after=True`` and ``max_retry_after=60.0``: a ``Retry-After`` (or
      ``retry-after-ms``) from the server replaces the backoff. A wait above
      ``max_retry_after`` is not slept: the call raises :class:`~datawrapper.RateLimitError`
      at once with ``.retry_after`` set, so a job never hangs for an hour on one header.
    - ``retry_non_idempotent=False``: POST is retried only when the server certainly did not
      process it (429, or a failure before the request was sent). True also retries a POST
      after a read timeout, a reset or a 5xx, which may create a chart twice.
    - ``retry_transport_errors=True``: connection errors and timeouts are retried too.
    - ``deadline=None``: no total limit across attempts and waits; a number of seconds caps
      the whole call, waits included, and shortens the last attempt's timeout to fit.

    PATCH is retried like PUT: every PATCH of the Datawrapper API deep-merges the body into
    the resource, so sending the same PATCH twice leaves the same state.
    """

    max_retries: int = 3
    retry_on: frozenset[int] = field(default=DEFAULT_RETRY_ON)
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.5
    respect_retry_after: bool = True
    max_retry_after: float = 60.0
    retry_non_idempotent: bool = False
    retry_transport_errors: bool = True
    deadline: float | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise ValueError(
                f"RetryPolicy.max_retries must be an int >= 0, got {self.max_retries!r} "
                "(0 switches retries off)"
            )
        object.__setattr__(self, "retry_on", _status_set(self.retry_on))
        object.__setattr__(
            self,
            "backoff_factor",
            _seconds("RetryPolicy.backoff_factor", self.backoff_factor, allow_zero=True),
        )
        object.__setattr__(
            self,
            "backoff_max",
            _seconds("RetryPolicy.backoff_max", self.backoff_max, allow_zero=True),
        )
        jitter = self.jitter
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise ValueError(f"RetryPolicy.jitter must be a number from 0 to 1, got {jitter!r}")
        object.__setattr__(self, "jitter", float(jitter))
        object.__setattr__(
            self,
            "max_retry_after",
            _seconds("RetryPolicy.max_retry_after", self.max_retry_after, allow_zero=True),
        )
        for name in ("respect_retry_after", "retry_non_idempotent", "retry_transport_errors"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"RetryPolicy.{name} must be True or False, got {getattr(self, name)!r}"
                )
        if self.deadline is not None:
            object.__setattr__(self, "deadline", _seconds("RetryPolicy.deadline", self.deadline))

    def backoff(self, retry_number: int, random_value: float) -> float:
        """The wait in seconds before retry ``retry_number`` (1-based), given U[0, 1) ``random_value``."""
        if self.backoff_factor == 0:
            return 0.0
        exponent = min(retry_number - 1, 62)
        base = min(self.backoff_max, self.backoff_factor * (2.0**exponent))
        return base * (1.0 - self.jitter * random_value)


def _status_set(codes: Iterable[int]) -> frozenset[int]:
    if isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable):
        raise ValueError(
            f"RetryPolicy.retry_on must be a collection of status codes such as "
            f"[429, 503], got {codes!r}"
        )
    result = set()
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
            raise ValueError(
                f"RetryPolicy.retry_on: {code!r} is not an HTTP error status; "
                "use ints from 400 to 599 such as 429 or 503"
            )
        result.add(code)
    return frozenset(result)
