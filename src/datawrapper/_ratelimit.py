"""Client-side rate limiting: pace requests before the server refuses them.

The retry engine calls :meth:`RateLimiter.acquire` before every attempt (retries included) and
:meth:`RateLimiter.feedback` after every response, so a limiter can pace requests before the
server says no and learn from the 429s and rate-limit headers it does send. Three limiters
come with the package:

- :class:`TokenBucket`: a fixed budget (``rate`` per second, ``burst`` at once) shared by all
  threads of one process.
- :class:`AdaptiveRateLimiter`: no configuration needed. It starts unthrottled, cuts its rate
  when 429s arrive, probes back up along a CUBIC curve, and paces from the server's
  ``RateLimit-*`` / ``X-RateLimit-*`` headers and ``Retry-After``.
- :class:`RedisRateLimiter`: a fixed budget shared by every process and machine that uses the
  same Redis and key, computed atomically inside Redis (``pip install 'datawrapper[redis]'``).

All three schedule with the generic cell rate algorithm (GCRA), the exact equivalent of a
token bucket that never holds more than ``burst`` tokens and gains ``rate`` tokens a second:
every :meth:`~RateLimiter.acquire` *reserves* the earliest free send slot and sleeps until it
(without holding any lock), so waiting threads are served in order and never spin. A
``Retry-After`` on a 429 (or 503) pauses every thread until then; reservations already handed
out are recalled and made again after the pause, at the bucket's pace, so the threads do not
all come back at once.

Write your own limiter by implementing the two methods of :class:`RateLimiter`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._exceptions import DeadlineExceeded

if TYPE_CHECKING:
    from .transport._models import Headers

__all__ = [
    "AdaptiveRateLimiter",
    "RateLimitInfo",
    "RateLimiter",
    "RedisRateLimiter",
    "TokenBucket",
    "parse_rate_limit_headers",
]

logger = logging.getLogger("datawrapper.ratelimit")

#: After this many recalls (new pauses or rate cuts while waiting) an acquire gives up waiting
#: for a stable slot and lets the request go; the server will answer it in any case.
_MAX_ROUNDS = 100
#: Statuses whose Retry-After pauses every thread sharing the limiter.
_PAUSE_STATUSES = frozenset({429, 503})


@runtime_checkable
class RateLimiter(Protocol):
    """Decides when the next request may be sent."""

    def acquire(self, *, timeout: float | None = None) -> float:
        """Block until one request may be sent; return the seconds waited.

        Raises :class:`~datawrapper.DeadlineExceeded` when that would take longer than
        ``timeout`` seconds (None: no limit).
        """
        ...

    def feedback(self, *, status_code: int, headers: Headers, retry_after: float | None) -> None:
        """Learn from a response: its status, headers and the parsed Retry-After (if any)."""
        ...


# --------------------------------------------------------------------------- argument checks


def _number(owner: str, name: str, value: object, *, minimum: float, inclusive: bool) -> float:
    """``value`` as a finite float above ``minimum``, else ValueError naming the field."""
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"{owner} {name} must be a number {bound}, got {type(value).__name__} {value!r}"
        )
    number = float(value)
    if not math.isfinite(number) or (number < minimum if inclusive else number <= minimum):
        raise ValueError(f"{owner} {name} must be a finite number {bound}, got {value!r}")
    return number


def _timeout(value: float | None) -> float | None:
    """The acquire ``timeout`` as seconds (negative means 0), or None for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"acquire timeout must be a number of seconds or None, got {value!r}")
    return max(float(value), 0.0)


def _callable(owner: str, name: str, value: object) -> None:
    if not callable(value):
        raise TypeError(f"{owner} {name} must be callable, got {type(value).__name__}")


def _too_long(owner: str, wait: float, timeout: float, waited: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"{owner}: the next request slot is {wait:.3g} s away, more than the {timeout:.3g} s "
        f"allowed (already waited {waited:.3g} s); raise the deadline or lower the request rate"
    )


# --------------------------------------------------------------------------- headers


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What a response's rate-limit headers say.

    ``limit``: the quota (requests per window, or the bucket's size); ``remaining``: requests
    left now; ``reset``: seconds until the quota is whole again (never negative). Any of them
    may be None when the server did not send it (or sent garbage).
    """

    limit: float | None = None
    remaining: float | None = None
    reset: float | None = None


_LEADING_NUMBER = re.compile(r"^\s*\"?\s*([+-]?\d+(?:\.\d*)?)")
_PARAM = re.compile(r"(?:^|[;,\s])(limit|remaining|reset|r|t|q)\s*=\s*([+-]?\d+(?:\.\d*)?)", re.I)
#: A reset above this is an epoch timestamp (10**9 s is 2001-09-09), above 10**12 epoch ms.
_EPOCH_SECONDS = 1e9
_EPOCH_MILLISECONDS = 1e12


def _leading(text: str | None) -> float | None:
    """The first number of a header value (``"100, 100;w=60"`` -> 100), or None."""
    if text is None:
        return None
    match = _LEADING_NUMBER.match(text)
    if not match:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) else None


def _reset_seconds(value: float | None, *, now: float, allow_epoch: bool) -> float | None:
    if value is None:
        return None
    if allow_epoch and value >= _EPOCH_MILLISECONDS:
        value = value / 1000.0 - now
    elif allow_epoch and value >= _EPOCH_SECONDS:
        value = value - now
    return max(value, 0.0)


def parse_rate_limit_headers(
    headers: Mapping[str, str], *, now: float | None = None
) -> RateLimitInfo | None:
    """The rate-limit state announced by ``headers``, or None when they announce none.

    Understood, first match wins:

    1. ``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` (IETF
       draft-ietf-httpapi-ratelimit-headers up to -06): Reset is delta seconds. A limit such
       as ``100, 100;w=60`` counts as 100.
    2. The structured ``RateLimit`` field: ``limit=100, remaining=50, reset=5`` (draft -07)
       or ``"default";r=50;t=5`` (draft -08 and later, with the quota ``q`` from
       ``RateLimit-Policy``).
    3. ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (GitHub, Twitter, GitLab ...): a
       Reset of at least 10**9 is an epoch timestamp in seconds (10**12: milliseconds),
       compared with ``now`` (seconds since the epoch, default :func:`time.time`); smaller
       values are delta seconds.

    Garbage values are ignored; a reset in the past counts as 0. Never raises.
    """
    wall = time.time() if now is None else now
    remaining = _leading(headers.get("ratelimit-remaining"))
    if remaining is not None:
        return RateLimitInfo(
            _leading(headers.get("ratelimit-limit")),
            max(remaining, 0.0),
            _reset_seconds(_leading(headers.get("ratelimit-reset")), now=wall, allow_epoch=False),
        )
    structured = headers.get("ratelimit")
    if structured is not None:
        params = {k.lower(): float(v) for k, v in _PARAM.findall(structured)}
        left = params.get("remaining", params.get("r"))
        if left is not None and math.isfinite(left):
            limit = params.get("limit")
            if limit is None:
                policy = headers.get("ratelimit-policy") or ""
                quota = {k.lower(): float(v) for k, v in _PARAM.findall(policy)}.get("q")
                limit = quota
            return RateLimitInfo(
                limit,
                max(left, 0.0),
                _reset_seconds(params.get("reset", params.get("t")), now=wall, allow_epoch=False),
            )
    remaining = _leading(headers.get("x-ratelimit-remaining"))
    if remaining is not None:
        return RateLimitInfo(
            _leading(headers.get("x-ratelimit-limit")),
            max(remaining, 0.0),
            _reset_seconds(_leading(headers.get("x-ratelimit-reset")), now=wall, allow_epoch=True),
        )
    return None


# --------------------------------------------------------------------------- in-process base


class _LocalLimiter:
    """The acquire loop shared by the in-process limiters.

    Subclasses implement :meth:`_reserve` (called with ``self._lock`` held): it books the
    earliest slot and returns it with the current generation. The generation changes whenever
    earlier bookings become invalid (a pause or a rate cut); a thread that finds it changed
    after sleeping books again.
    """

    _name = "rate limiter"

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        _callable(type(self).__name__, "clock", clock)
        _callable(type(self).__name__, "sleep", sleep)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._generation = 0
        self._bookings = 0  # bookings made so far; numbers each one
        self._local = threading.local()

    def _reserve(self, now: float, max_wait: float | None) -> tuple[float, int, bool]:
        """(slot, generation, booked): the earliest slot, booked unless it is further than
        ``max_wait`` seconds away (lock held)."""
        raise NotImplementedError

    def acquire(self, *, timeout: float | None = None) -> float:
        """Block until one request may be sent; return the seconds waited.

        Raises :class:`~datawrapper.DeadlineExceeded` at once (without sleeping or using up
        a slot) when the wait would exceed ``timeout`` seconds.
        """
        limit = _timeout(timeout)
        waited = 0.0
        for _ in range(_MAX_ROUNDS):
            max_wait = None if limit is None else limit - waited
            with self._lock:
                now = self._clock()
                slot, generation, booked = self._reserve(now, max_wait)
                if booked:
                    self._bookings += 1
                    self._local.booking = self._bookings
            wait = slot - now
            if not booked:
                raise _too_long(type(self).__name__, wait, limit or 0.0, waited)
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait
            with self._lock:
                if self._generation == generation:
                    return waited
                self._recalled(slot)
            logger.debug("%s: slot recalled by a pause or rate cut, booking again", self._name)
        logger.warning("%s: gave up re-booking after %d recalls", self._name, _MAX_ROUNDS)
        return waited

    def _recalled(self, slot: float) -> None:
        """Forget the booking of ``slot``: it was recalled and is booked again (lock held)."""

    def _last_booking(self) -> int | None:
        """The number of the booking this thread made last (None if it never acquired)."""
        booking: int | None = getattr(self._local, "booking", None)
        return booking


# --------------------------------------------------------------------------- TokenBucket


class TokenBucket(_LocalLimiter):
    """A token bucket shared by all threads of a client: ``rate`` requests a second on
    average, up to ``burst`` at once.

    ::

        limiter = TokenBucket(rate=10, burst=20)
        client = Datawrapper(rate_limiter=limiter)

    The bucket starts full. :meth:`acquire` books the earliest slot (GCRA, the same
    arithmetic as a token bucket) and sleeps until then without holding the lock; threads are
    served in the order they asked. It raises :class:`~datawrapper.DeadlineExceeded` at once,
    without sleeping, when the slot is further away than ``timeout``.

    :meth:`feedback` on a 429 (or 503) with ``Retry-After``: every thread pauses until then
    (at most ``max_pause`` seconds), and the bucket restarts empty, so the threads come back
    one slot apart instead of all at once. A 429 without Retry-After empties the bucket (no
    burst until it refills). ``clock`` (monotonic seconds) and ``sleep`` are injectable.
    """

    _name = "TokenBucket"

    def __init__(
        self,
        *,
        rate: float,
        burst: float,
        max_pause: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = _number("TokenBucket", "rate", rate, minimum=0.0, inclusive=False)
        self.burst = _number("TokenBucket", "burst", burst, minimum=1.0, inclusive=True)
        self.max_pause = _number("TokenBucket", "max_pause", max_pause, minimum=0, inclusive=True)
        super().__init__(clock, sleep)
        self._interval = 1.0 / self.rate
        self._tat = self._clock()  # the bucket is full at and after this time
        self._paused_until = -math.inf

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst:g})"

    def _reserve(self, now: float, max_wait: float | None) -> tuple[float, int, bool]:
        tat = max(self._tat, now)
        slot = max(now, tat - (self.burst - 1.0) * self._interval, self._paused_until)
        if max_wait is not None and slot - now > max_wait:
            return slot, self._generation, False
        self._tat = max(tat, slot) + self._interval
        return slot, self._generation, True

    @property
    def tokens(self) -> float:
        """The tokens in the bucket now (negative when slots are booked ahead)."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return 0.0
            return self.burst - max(self._tat - now, 0.0) / self._interval

    @property
    def paused_until(self) -> float | None:
        """The clock time until which every thread is paused, or None."""
        with self._lock:
            return self._paused_until if self._paused_until > self._clock() else None

    def pause(self, seconds: float) -> None:
        """Pause every thread for ``seconds`` (capped at ``max_pause``); the bucket restarts
        empty when the pause ends. A pause never shortens a longer one."""
        seconds = min(
            _number("TokenBucket", "pause", seconds, minimum=0, inclusive=True), self.max_pause
        )
        with self._lock:
            until = self._clock() + seconds
            if until <= self._paused_until:
                return
            self._paused_until = until
            self._tat = until + (self.burst - 1.0) * self._interval
            self._generation += 1
        logger.debug("TokenBucket: paused for %.3g s", seconds)

    def feedback(self, *, status_code: int, headers: Headers, retry_after: float | None) -> None:
        """On a 429 or 503 with Retry-After pause every thread; a bare 429 empties the bucket."""
        if status_code in _PAUSE_STATUSES and retry_after is not None and retry_after > 0:
            self.pause(retry_after)
        elif status_code == 429:
            with self._lock:
                now = self._clock()
                self._tat = max(self._tat, now + (self.burst - 1.0) * self._interval)


# --------------------------------------------------------------------------- adaptive


class AdaptiveRateLimiter(_LocalLimiter):
    """A limiter that needs no configuration: it learns the server's limit as it goes.

    ::

        client = Datawrapper(rate_limiter=AdaptiveRateLimiter())

    Three mechanisms, all shared by the threads of the client:

    1. **Retry-After.** A 429 (or 503) with ``Retry-After`` pauses every thread until then
       (at most ``max_pause`` seconds). After the pause requests resume one slot apart.
    2. **Rate-limit headers** (``use_headers=True``; see :func:`parse_rate_limit_headers`).
       Each response that announces ``remaining`` requests and a ``reset`` in seconds updates
       a budget: ``remaining`` minus the requests booked but not yet sent. While the budget is
       above ``headers_reserve * limit`` requests are not delayed. Below it the budget is
       spread evenly over the time left: the next request goes ``(reset_at - t_last) /
       budget`` seconds after the previous one (``t_last``), and with no budget left it waits
       for the reset. For a token bucket that announces its refill time this settles where
       the client sends exactly the server's rate, and for a fixed window it spends the
       window's quota evenly; both without a single 429.
    3. **CUBIC rate control** on 429s, as in TCP CUBIC and botocore's adaptive retry mode.
       The limiter starts unthrottled (or at ``max_rate``). On a 429 it measures the rate it
       sent at over the last second (``measured``), sets ``w_max = min(rate, measured)`` and
       cuts the rate to ``beta * w_max`` (multiplicative decrease). Then, ``t`` seconds after
       that cut, it allows::

           rate(t) = scale * (t - K) ** 3 + w_max,   K = cbrt(w_max * (1 - beta) / scale)

       which climbs back to ``w_max`` in ``K`` seconds, stays near it (where the limit
       was), then probes above it ever faster. Once ``rate(t)`` exceeds ``4 * w_max`` the
       limiter is unthrottled again (with ``max_rate`` it stays at ``max_rate``). With the
       defaults (``beta=0.7``, ``scale=0.4``), after a cut from 10/s it is at 7/s, back at
       10/s after 1.96 s, and unthrottled after 6.2 s without another 429. A 429 answering a
       request sent before the last cut does not cut again: one cut per congestion event.
       When a cut finds ``w_max`` lower than at the previous cut, the limit has moved down,
       so the plateau is lowered to ``w_max * (1 + beta) / 2`` (CUBIC's fast convergence;
       ``K`` is then ``cbrt((w_max - rate) / scale)``). The rate never goes below
       ``min_rate``.

    The slot a request gets is the latest of the three. ``clock`` (monotonic seconds),
    ``sleep`` and ``wall_clock`` (epoch seconds, for epoch ``X-RateLimit-Reset``) are
    injectable so tests never really wait.
    """

    _name = "AdaptiveRateLimiter"
    #: The CUBIC rate that counts as unthrottled again, as a multiple of w_max.
    unthrottle_factor = 4.0
    #: The window (seconds) over which the sending rate is measured.
    measure_window = 1.0

    def __init__(
        self,
        *,
        max_rate: float | None = None,
        min_rate: float = 0.5,
        beta: float = 0.7,
        scale: float = 0.4,
        max_pause: float = 60.0,
        use_headers: bool = True,
        headers_reserve: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        owner = "AdaptiveRateLimiter"
        self.min_rate = _number(owner, "min_rate", min_rate, minimum=0.0, inclusive=False)
        self.max_rate = (
            None
            if max_rate is None
            else _number(owner, "max_rate", max_rate, minimum=0.0, inclusive=False)
        )
        if self.max_rate is not None and self.max_rate < self.min_rate:
            raise ValueError(
                f"AdaptiveRateLimiter max_rate ({max_rate!r}) must be >= min_rate ({min_rate!r})"
            )
        self.beta = _number(owner, "beta", beta, minimum=0.0, inclusive=False)
        if self.beta >= 1:
            raise ValueError(f"AdaptiveRateLimiter beta must be between 0 and 1, got {beta!r}")
        self.scale = _number(owner, "scale", scale, minimum=0.0, inclusive=False)
        self.max_pause = _number(owner, "max_pause", max_pause, minimum=0, inclusive=True)
        if not isinstance(use_headers, bool):
            raise ValueError(f"AdaptiveRateLimiter use_headers must be a bool, got {use_headers!r}")
        self.use_headers = use_headers
        self.headers_reserve = _number(
            owner, "headers_reserve", headers_reserve, minimum=0, inclusive=True
        )
        if self.headers_reserve > 1:
            raise ValueError(
                f"AdaptiveRateLimiter headers_reserve must be from 0 to 1, got {headers_reserve!r}"
            )
        _callable(owner, "wall_clock", wall_clock)
        super().__init__(clock, sleep)
        self._wall_clock = wall_clock
        # CUBIC state; _rate None means unthrottled
        self._rate: float | None = self.max_rate
        self._w_max = 0.0
        self._k = 0.0
        self._last_cut: float | None = None
        self._cut_booking = 0
        self._next_free = -math.inf  # earliest next slot under the CUBIC rate
        self._paused_until = -math.inf
        self._sent: collections.deque[float] = collections.deque(maxlen=10_000)
        self.throttles = 0
        # header state
        self._hdr_budget: float | None = None
        self._hdr_reset_at = 0.0
        self._hdr_limit: float | None = None
        self._hdr_last = -math.inf
        self._hdr_seen = 0.0

    def __repr__(self) -> str:
        rate = self.rate
        shown = "unthrottled" if rate is None else f"{rate:.3g}/s"
        return f"AdaptiveRateLimiter(rate={shown}, throttles={self.throttles})"

    # ----------------------------------------------------------------- state

    @property
    def rate(self) -> float | None:
        """The rate (requests/s) allowed now, or None while unthrottled."""
        with self._lock:
            self._update_rate(self._clock())
            return self._rate

    @property
    def paused_until(self) -> float | None:
        """The clock time until which every thread is paused, or None."""
        with self._lock:
            return self._paused_until if self._paused_until > self._clock() else None

    def _cubic(self, now: float) -> float:
        assert self._last_cut is not None
        t = now - self._last_cut
        return self.scale * (t - self._k) ** 3 + self._w_max

    def _update_rate(self, now: float) -> None:
        if self._last_cut is None:
            return
        rate = max(self._cubic(now), self.min_rate)
        if self.max_rate is not None:
            self._rate = min(rate, self.max_rate)
        elif rate >= self.unthrottle_factor * self._w_max:
            self._rate = None
            self._last_cut = None
            logger.debug("AdaptiveRateLimiter: no 429 for a while, unthrottled")
        else:
            self._rate = rate

    def _measured(self, now: float) -> float:
        start = now - self.measure_window
        sent = self._sent
        while sent and sent[0] <= start:
            sent.popleft()
        count = sum(1 for slot in sent if slot <= now)
        return count / self.measure_window

    # ----------------------------------------------------------------- booking

    def _header_slot(self, slot: float) -> float:
        budget = self._hdr_budget
        if budget is None:
            return slot
        if slot >= self._hdr_reset_at:
            # The quota was whole again at the reset; until a response says more, spend it.
            self._hdr_budget = None if self._hdr_limit is None else self._hdr_limit
            self._hdr_reset_at = math.inf
            return slot
        limit = self._hdr_limit
        if limit is not None and budget > self.headers_reserve * limit:
            return slot
        if budget < 1:
            return self._hdr_reset_at if math.isfinite(self._hdr_reset_at) else slot
        if not math.isfinite(self._hdr_reset_at):
            return slot
        # Spread the budget evenly from the last send to the reset.
        base = self._hdr_last if self._hdr_last > -math.inf else self._hdr_seen
        return max(slot, base + (self._hdr_reset_at - base) / budget)

    def _reserve(self, now: float, max_wait: float | None) -> tuple[float, int, bool]:
        self._update_rate(now)
        sent = self._sent
        while sent and sent[0] <= now - self.measure_window:
            sent.popleft()
        slot = max(now, self._paused_until)
        if self._rate is not None:
            slot = max(slot, self._next_free)
        if self.use_headers:
            slot = self._header_slot(slot)
        if max_wait is not None and slot - now > max_wait:
            return slot, self._generation, False
        if self._rate is not None:
            self._next_free = slot + 1.0 / self._rate
        if self._hdr_budget is not None:
            self._hdr_budget -= 1
        self._hdr_last = slot
        sent.append(slot)
        return slot, self._generation, True

    def _recalled(self, slot: float) -> None:
        with contextlib.suppress(ValueError):
            self._sent.remove(slot)
        if self._hdr_budget is not None:
            self._hdr_budget += 1

    # ----------------------------------------------------------------- feedback

    def pause(self, seconds: float) -> None:
        """Pause every thread for ``seconds`` (capped at ``max_pause``); a pause never
        shortens a longer one."""
        seconds = min(
            _number("AdaptiveRateLimiter", "pause", seconds, minimum=0, inclusive=True),
            self.max_pause,
        )
        with self._lock:
            self._pause_locked(self._clock() + seconds)

    def _pause_locked(self, until: float) -> None:
        if until <= self._paused_until:
            return
        self._paused_until = until
        self._next_free = until
        self._hdr_last = max(self._hdr_last, until)
        self._generation += 1
        logger.debug("AdaptiveRateLimiter: every thread paused until %.3f", until)

    def _cut(self, now: float) -> None:
        """Multiplicative decrease after a 429 (lock held)."""
        booking = self._last_booking()
        if self._last_cut is not None and booking is not None and booking <= self._cut_booking:
            return  # this 429 answers a request booked before the last cut
        self._update_rate(now)
        measured = max(self._measured(now), self.min_rate)
        current = math.inf if self._rate is None else self._rate
        w_max = max(min(current, measured), self.min_rate)
        rate = max(self.beta * w_max, self.min_rate)
        if self._last_cut is not None and w_max < self._w_max:
            # Fast convergence: the limit moved down, so plateau below where we were.
            w_max = max(w_max * (1.0 + self.beta) / 2.0, rate)
        self._w_max = w_max
        self._k = ((w_max - rate) / self.scale) ** (1.0 / 3.0)
        self._rate = rate
        self._last_cut = now
        self._cut_booking = self._bookings
        self._next_free = max(now, self._paused_until)
        self._generation += 1
        self.throttles += 1
        logger.debug("AdaptiveRateLimiter: 429 at %.3g/s sent, rate cut to %.3g/s", measured, rate)

    def feedback(self, *, status_code: int, headers: Headers, retry_after: float | None) -> None:
        """Pause on Retry-After, cut the rate on a 429, and pace from rate-limit headers."""
        with self._lock:
            now = self._clock()
            if status_code in _PAUSE_STATUSES and retry_after is not None and retry_after > 0:
                self._pause_locked(now + min(retry_after, self.max_pause))
            if status_code == 429:
                self._cut(now)
            if self.use_headers:
                self._observe(now, headers)

    def _observe(self, now: float, headers: Mapping[str, str]) -> None:
        info = parse_rate_limit_headers(headers, now=self._wall_clock())
        if info is None or info.remaining is None:
            return
        if info.limit is not None and info.limit > 0:
            self._hdr_limit = info.limit
        elif self._hdr_limit is None or info.remaining > self._hdr_limit:
            self._hdr_limit = info.remaining if info.remaining > 0 else None
        queued = sum(1 for slot in self._sent if slot > now)
        self._hdr_budget = info.remaining - queued
        self._hdr_seen = now
        self._hdr_reset_at = now + info.reset if info.reset is not None else math.inf
        if info.remaining < 1 and info.reset is not None and info.reset > 0:
            # Nothing left until the reset: recall the slots booked meanwhile.
            self._pause_locked(now + min(info.reset, self.max_pause))


# --------------------------------------------------------------------------- Redis

_REDIS_PREAMBLE = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

#: Book the earliest slot. KEYS[1]: the bucket hash (fields tat, pause, gen, all in
#: microseconds of Redis TIME). ARGV: interval_us, burst, max_wait_us (-1: no limit).
#: Returns {booked (1/0), wait_us, generation}.
_RESERVE_LUA = (
    _REDIS_PREAMBLE
    + """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local st = redis.call('HMGET', KEYS[1], 'tat', 'pause', 'gen')
local tat = tonumber(st[1]) or now
local pause = tonumber(st[2]) or 0
local gen = tonumber(st[3]) or 0
if tat < now then tat = now end
local slot = tat - (burst - 1) * interval
if slot < now then slot = now end
if slot < pause then slot = pause end
local wait = slot - now
if max_wait >= 0 and wait > max_wait then
  return {0, math.floor(wait), gen}
end
if slot > tat then tat = slot end
tat = tat + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat))
redis.call('PEXPIRE', KEYS[1], math.ceil((tat - now) / 1000) + 1000)
return {1, math.floor(wait), gen}
"""
)

#: Pause every user of the key. ARGV: pause_us, interval_us, burst. The bucket restarts
#: empty at the end of the pause; the generation changes so booked slots are recalled.
_PAUSE_LUA = (
    _REDIS_PREAMBLE
    + """
local untilt = now + tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local st = redis.call('HMGET', KEYS[1], 'pause', 'gen')
local pause = tonumber(st[1]) or 0
if untilt <= pause then return 0 end
local tat = untilt + (burst - 1) * interval
redis.call('HSET', KEYS[1], 'pause', string.format('%.0f', untilt),
           'tat', string.format('%.0f', tat), 'gen', (tonumber(st[2]) or 0) + 1)
redis.call('PEXPIRE', KEYS[1], math.ceil((tat - now) / 1000) + 1000)
return 1
"""
)

#: Empty the bucket (a 429 without Retry-After). ARGV: interval_us, burst.
_DRAIN_LUA = (
    _REDIS_PREAMBLE
    + """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat')) or now
local empty = now + (burst - 1) * interval
if tat >= empty then return 0 end
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', empty))
redis.call('PEXPIRE', KEYS[1], math.ceil((empty - now) / 1000) + 1000)
return 1
"""
)

_REDIS_EXTRA = (
    "RedisRateLimiter needs the redis package: install it with "
    "pip install 'datawrapper[redis]' (or pass a ready redis.Redis client)"
)


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ImportError(_REDIS_EXTRA) from exc
    return redis


class RedisRateLimiter:
    """One token bucket shared by every process and machine using the same Redis and key.

    ::

        limiter = RedisRateLimiter("redis://redis.internal:6379/0", key="dw:team-a",
                                   rate=10, burst=20)
        client = Datawrapper(rate_limiter=limiter)

    ``redis_client_or_url``: a ``redis.Redis`` client (anything with ``register_script`` and
    ``hget``) or a URL, which needs the optional extra (``pip install
    'datawrapper[redis]'``). Every user of ``key`` must pass the same ``rate`` and ``burst``.

    Each :meth:`acquire` runs one Lua script that books the earliest slot atomically inside
    Redis (GCRA on a hash at ``key``; time from Redis ``TIME``, so client clocks never
    matter), then sleeps until the slot. A 429 (or 503) with ``Retry-After`` passed to
    :meth:`feedback` pauses every process (at most ``max_pause`` seconds): slots booked
    meanwhile are recalled (one ``HGET`` after the sleep checks) and booked again, at the
    bucket's pace, after the pause. A 429 without Retry-After empties the bucket. The key
    expires once the bucket is full again.

    If Redis fails, the Redis error propagates, or with ``fail_open=True`` it is logged (as
    a warning) and the request goes ahead unpaced. ``clock`` and ``sleep`` are injectable.
    """

    def __init__(
        self,
        redis_client_or_url: Any,
        *,
        key: str,
        rate: float,
        burst: float,
        max_pause: float = 60.0,
        fail_open: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        owner = "RedisRateLimiter"
        self.rate = _number(owner, "rate", rate, minimum=0.0, inclusive=False)
        self.burst = _number(owner, "burst", burst, minimum=1.0, inclusive=True)
        self.max_pause = _number(owner, "max_pause", max_pause, minimum=0, inclusive=True)
        if not isinstance(key, str) or not key:
            raise ValueError(f"RedisRateLimiter key must be a non-empty str, got {key!r}")
        if not isinstance(fail_open, bool):
            raise ValueError(f"RedisRateLimiter fail_open must be a bool, got {fail_open!r}")
        _callable(owner, "clock", clock)
        _callable(owner, "sleep", sleep)
        self.key = key
        self.fail_open = fail_open
        self._clock = clock
        self._sleep = sleep
        self._interval_us = math.ceil(1_000_000 / self.rate)
        if isinstance(redis_client_or_url, str):
            redis = _import_redis()
            self._redis = redis.Redis.from_url(redis_client_or_url)
            self._owns_client = True
        elif callable(getattr(redis_client_or_url, "register_script", None)):
            self._redis = redis_client_or_url
            self._owns_client = False
        else:
            raise TypeError(
                "RedisRateLimiter needs a redis.Redis client or a redis:// URL, got "
                f"{type(redis_client_or_url).__name__}"
            )
        self._reserve = self._redis.register_script(_RESERVE_LUA)
        self._pause = self._redis.register_script(_PAUSE_LUA)
        self._drain = self._redis.register_script(_DRAIN_LUA)

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"RedisRateLimiter(key={self.key!r}, rate={self.rate:g}, burst={self.burst:g})"

    def close(self) -> None:
        """Close the Redis client if this limiter created it from a URL."""
        if self._owns_client:
            self._redis.close()

    def __enter__(self) -> RedisRateLimiter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _redis_failed(self, what: str, exc: Exception) -> None:
        if not self.fail_open:
            raise exc
        logger.warning(
            "RedisRateLimiter(key=%r): %s failed (%s); going ahead unpaced (fail_open=True)",
            self.key,
            what,
            type(exc).__name__,
        )

    def acquire(self, *, timeout: float | None = None) -> float:
        """Book the next slot of the shared bucket and sleep until it; return seconds waited.

        Raises :class:`~datawrapper.DeadlineExceeded` at once (without using up a slot) when
        the slot is further away than ``timeout``.
        """
        limit = _timeout(timeout)
        waited = 0.0
        for _ in range(_MAX_ROUNDS):
            max_wait_us = -1 if limit is None else math.floor((limit - waited) * 1_000_000)
            try:
                booked, wait_us, generation = self._reserve(
                    keys=[self.key], args=[self._interval_us, self.burst, max_wait_us]
                )
            except Exception as exc:
                self._redis_failed("booking a slot", exc)
                return waited
            wait = int(wait_us) / 1_000_000
            if not int(booked):
                raise _too_long("RedisRateLimiter", wait, limit or 0.0, waited)
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait
            try:
                current = self._redis.hget(self.key, "gen")
            except Exception as exc:
                self._redis_failed("checking for a pause", exc)
                return waited
            if int(current or 0) == int(generation):
                return waited
            logger.debug("RedisRateLimiter(key=%r): slot recalled by a pause", self.key)
        logger.warning("RedisRateLimiter: gave up re-booking after %d recalls", _MAX_ROUNDS)
        return waited

    def pause(self, seconds: float) -> None:
        """Pause every user of the key for ``seconds`` (capped at ``max_pause``)."""
        seconds = min(
            _number("RedisRateLimiter", "pause", seconds, minimum=0, inclusive=True),
            self.max_pause,
        )
        try:
            self._pause(
                keys=[self.key],
                args=[math.ceil(seconds * 1_000_000), self._interval_us, self.burst],
            )
        except Exception as exc:
            self._redis_failed("setting a pause", exc)

    def feedback(self, *, status_code: int, headers: Headers, retry_after: float | None) -> None:
        """On a 429 or 503 with Retry-After pause every process; a bare 429 empties the bucket."""
        if status_code in _PAUSE_STATUSES and retry_after is not None and retry_after > 0:
            self.pause(retry_after)
        elif status_code == 429:
            try:
                self._drain(keys=[self.key], args=[self._interval_us, self.burst])
            except Exception as exc:
                self._redis_failed("emptying the bucket", exc)
