"""The one retry engine: which failures are retried, how long to wait, and the attempt loop.

Backends send exactly once; everything about trying again lives here, so every backend
behaves the same. The decisions (:meth:`RetryEngine.decide_response`,
:meth:`RetryEngine.decide_error`, :func:`parse_retry_after`) are pure functions of their
inputs, so an async client can reuse them and only write its own loop around ``await``.

What is retried, by method (see :class:`RetryPolicy` for the defaults):

========================  ===================  ============================================
failure                   GET HEAD OPTIONS     POST (not idempotent)
                          PUT DELETE PATCH
========================  ===================  ============================================
429                       retried              retried: the server refused it unprocessed
other ``retry_on`` 5xx    retried              not retried (it may have been processed)
not sent: connect error,  retried              retried
connect/pool timeout
sent: read timeout,       retried              not retried; the error says the outcome is
reset, protocol error                          unknown (``outcome_unknown = True``)
TLS or decoding error     never                never (repeating cannot help)
========================  ===================  ============================================

``RetryPolicy.retry_non_idempotent=True`` retries POST like the others; an operation whose
POST is safe to repeat (publish, data refresh) passes ``idempotent=True`` to :meth:`send`.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random as _random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timezone

from .._exceptions import (
    Attempt,
    DeadlineExceeded,
    DecodingError,
    FailedRequestError,
    TLSError,
    TransportError,
    error_for_response,
)
from .._hooks import Event, Hook, emit
from .._ratelimit import RateLimiter
from .._redact import redact_url
from ._base import Transport
from ._config import RetryPolicy, Timeout
from ._models import Request, Response

__all__ = ["IDEMPOTENT_METHODS", "Decision", "RetryEngine", "parse_retry_after"]

logger = logging.getLogger("datawrapper.retry")

#: Methods retried after any retryable failure. PATCH is here because every Datawrapper PATCH
#: is a deep merge: applying the same one twice leaves the same state.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "PATCH"})

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$", re.ASCII)


def _number(text: str) -> float | None:
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait in seconds a response asks for, or None when it asks for none (or garbage).

    ``retry-after-ms`` (milliseconds) wins over ``Retry-After``, which may be integer or
    fractional seconds or an HTTP-date (compared with ``now``, seconds since the epoch). A
    negative wait or a date in the past means 0. Never raises.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        value = _number(ms)
        if value is not None:
            return max(value / 1000.0, 0.0)
    text = headers.get("retry-after")
    if text is None:
        return None
    value = _number(text)
    if value is not None:
        return max(value, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None for garbage
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        stamp = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return max(stamp - (time.time() if now is None else now), 0.0)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to retry, after how many seconds, and why (for logs, hooks and errors)."""

    retry: bool
    delay: float = 0.0
    reason: str = ""
    retry_after: float | None = None
    outcome_unknown: bool = False


def _attempt(
    number: int,
    request: Request,
    safe_url: str,
    status: int | None,
    error: str | None,
    elapsed: float,
    decision: Decision,
) -> Attempt:
    """The history entry of one attempt and the decision taken after it."""
    return Attempt(
        number,
        request.method,
        safe_url or redact_url(request.url),
        status,
        error,
        elapsed,
        decision.delay if decision.retry else None,
        decision.reason,
    )


class RetryEngine:
    """Applies a :class:`RetryPolicy` around any :class:`Transport`.

    ``clock`` (monotonic seconds), ``sleep``, ``random`` (U[0, 1)) and ``wall_clock`` (epoch
    seconds, for HTTP-date Retry-After) are injectable so tests never really wait.
    Thread-safe: it keeps no state between calls.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.sleep = sleep
        self.random = random
        self.wall_clock = wall_clock

    # ------------------------------------------------------------------ pure decisions

    @staticmethod
    def is_idempotent(method: str, idempotent: bool | None = None) -> bool:
        """Whether ``method`` may be repeated after it was sent (``idempotent`` overrides)."""
        return method in IDEMPOTENT_METHODS if idempotent is None else idempotent

    def decide_response(
        self,
        *,
        method: str,
        response: Response,
        retries_done: int,
        idempotent: bool,
        remaining: float | None = None,
    ) -> Decision:
        """Whether to retry after ``response`` (a status >= 400)."""
        policy = self.policy
        status = response.status_code
        retry_after = (
            parse_retry_after(response.headers, now=self.wall_clock())
            if policy.respect_retry_after
            else None
        )
        if status not in policy.retry_on:
            return Decision(
                False, reason=f"status {status} is not retried", retry_after=retry_after
            )
        if not (idempotent or status == 429 or policy.retry_non_idempotent):
            return Decision(
                False,
                reason=(
                    f"{method} is not retried after a {status}: the server may have processed "
                    "it (set RetryPolicy(retry_non_idempotent=True) to retry anyway)"
                ),
                retry_after=retry_after,
                outcome_unknown=True,
            )
        if retries_done >= policy.max_retries:
            return Decision(
                False, reason=f"gave up after {retries_done + 1} attempts", retry_after=retry_after
            )
        if retry_after is not None and retry_after > policy.max_retry_after:
            return Decision(
                False,
                reason=(
                    f"the server asked to wait {retry_after:g} s, more than "
                    f"RetryPolicy.max_retry_after={policy.max_retry_after:g} s"
                ),
                retry_after=retry_after,
            )
        if retry_after is not None:
            delay, why = retry_after, f"status {status}, Retry-After {retry_after:g} s"
        else:
            delay = policy.backoff(retries_done + 1, self.random())
            why = f"status {status}, backoff {delay:.3g} s"
        if remaining is not None and delay >= remaining:
            return Decision(
                False,
                reason=f"waiting {delay:.3g} s would pass the deadline ({remaining:.3g} s left)",
                retry_after=retry_after,
            )
        return Decision(True, delay, why, retry_after)

    def decide_error(
        self,
        *,
        method: str,
        error: TransportError,
        retries_done: int,
        idempotent: bool,
        remaining: float | None = None,
    ) -> Decision:
        """Whether to retry after the transport failure ``error``."""
        policy = self.policy
        name = type(error).__name__
        if isinstance(error, (TLSError, DecodingError)):
            return Decision(False, reason=f"{name} is not retried: repeating cannot help")
        if error.request_sent and not (idempotent or policy.retry_non_idempotent):
            return Decision(
                False,
                reason=(
                    f"{method} is not retried after a {name} once sent: the outcome is unknown, "
                    "the server may have processed it (check before repeating it, or set "
                    "RetryPolicy(retry_non_idempotent=True))"
                ),
                outcome_unknown=True,
            )
        if not policy.retry_transport_errors:
            return Decision(False, reason="RetryPolicy.retry_transport_errors is False")
        if retries_done >= policy.max_retries:
            return Decision(False, reason=f"gave up after {retries_done + 1} attempts")
        delay = policy.backoff(retries_done + 1, self.random())
        if remaining is not None and delay >= remaining:
            return Decision(
                False,
                reason=f"waiting {delay:.3g} s would pass the deadline ({remaining:.3g} s left)",
            )
        return Decision(True, delay, f"{name}, backoff {delay:.3g} s")

    # ------------------------------------------------------------------ the loop

    def send(
        self,
        transport: Transport,
        request: Request,
        *,
        timeout: Timeout,
        idempotent: bool | None = None,
        deadline: float | None = None,
        hooks: Sequence[Hook] = (),
        rate_limiter: RateLimiter | None = None,
        backend: str = "",
    ) -> Response:
        """Send ``request`` through ``transport``, retrying as the policy says.

        Returns a response with a status below 400. Raises
        :class:`~datawrapper.FailedRequestError` (or a subclass) for a final status of 400 or
        more, the :class:`~datawrapper.TransportError` of the last attempt, or
        :class:`~datawrapper.DeadlineExceeded`. ``deadline`` (seconds, default
        ``policy.deadline``) bounds the whole call, waits included.
        """
        clock = self.clock
        if deadline is None:
            deadline = self.policy.deadline
        deadline_at = None if deadline is None else clock() + deadline
        method = request.method
        idem = self.is_idempotent(method, idempotent)
        debug = logger.isEnabledFor(logging.DEBUG)
        safe_url = redact_url(request.url) if (debug or hooks) else ""
        path = request.path if hooks else ""
        attempts: list[Attempt] = []
        retries = 0
        last_error: BaseException | None = None

        while True:
            number = retries + 1
            remaining: float | None = None
            if deadline_at is not None:
                remaining = deadline_at - clock()
                if remaining <= 0:
                    raise self._give_up(
                        hooks, debug, request, safe_url, path, backend, deadline, attempts
                    ) from last_error
            if rate_limiter is not None:
                rate_limiter.acquire(timeout=remaining)
                if deadline_at is not None:
                    remaining = deadline_at - clock()
                    if remaining <= 0:
                        raise self._give_up(
                            hooks, debug, request, safe_url, path, backend, deadline, attempts
                        ) from last_error
            attempt_timeout = timeout if remaining is None else timeout.capped(remaining)
            if hooks:
                emit(hooks, Event("request", method, safe_url, path, number, backend))
            if debug:
                logger.debug("-> %s %s attempt %d via %s", method, safe_url, number, backend)
            started = clock()
            try:
                response = transport.send(request, timeout=attempt_timeout)
            except TransportError as exc:
                elapsed = clock() - started
                if deadline_at is not None:
                    remaining = deadline_at - clock()
                decision = self.decide_error(
                    method=method,
                    error=exc,
                    retries_done=retries,
                    idempotent=idem,
                    remaining=remaining,
                )
                attempts.append(
                    _attempt(number, request, safe_url, None, type(exc).__name__, elapsed, decision)
                )
                if not decision.retry:
                    exc.attempts = tuple(attempts)
                    if decision.outcome_unknown:
                        exc.outcome_unknown = True
                    if decision.reason and decision.reason not in exc.message:
                        exc.args = (f"{exc.message} [{decision.reason}]",)
                    self._final(
                        hooks, debug, request, safe_url, path, number, backend, elapsed, exc
                    )
                    raise
                self._retrying(
                    hooks,
                    debug,
                    request,
                    safe_url,
                    path,
                    number,
                    backend,
                    elapsed,
                    decision,
                    None,
                    error=type(exc).__name__,
                )
                last_error = exc
                retries += 1
                if decision.delay > 0:
                    self.sleep(decision.delay)
                continue

            elapsed = clock() - started
            status = response.status_code
            if hooks:
                emit(
                    hooks,
                    Event("response", method, safe_url, path, number, backend, status, elapsed),
                )
            if debug:
                logger.debug(
                    "<- %s %s %d in %.1f ms (attempt %d)",
                    method,
                    safe_url,
                    status,
                    elapsed * 1000,
                    number,
                )
            if status < 400:
                if rate_limiter is not None:
                    rate_limiter.feedback(
                        status_code=status, headers=response.headers, retry_after=None
                    )
                return response
            if deadline_at is not None:
                remaining = deadline_at - clock()
            decision = self.decide_response(
                method=method,
                response=response,
                retries_done=retries,
                idempotent=idem,
                remaining=remaining,
            )
            if rate_limiter is not None:
                rate_limiter.feedback(
                    status_code=status, headers=response.headers, retry_after=decision.retry_after
                )
            attempts.append(_attempt(number, request, safe_url, status, None, elapsed, decision))
            if not decision.retry:
                error = error_for_response(
                    response, retry_after=decision.retry_after, attempts=attempts
                )
                error.outcome_unknown = decision.outcome_unknown
                if decision.reason and status in self.policy.retry_on:
                    error.args = (f"{error.message} [{decision.reason}]",)
                self._final(hooks, debug, request, safe_url, path, number, backend, elapsed, error)
                raise error
            self._retrying(
                hooks, debug, request, safe_url, path, number, backend, elapsed, decision, status
            )
            retries += 1
            if decision.delay > 0:
                self.sleep(decision.delay)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _deadline_error(
        request: Request, deadline: float | None, attempts: list[Attempt]
    ) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"{request.method} {redact_url(request.url)} did not finish within its deadline of "
            f"{deadline or 0:g} s ({len(attempts)} attempts made)",
            attempts=attempts,
        )

    def _give_up(
        self,
        hooks: Sequence[Hook],
        debug: bool,
        request: Request,
        safe_url: str,
        path: str,
        backend: str,
        deadline: float | None,
        attempts: list[Attempt],
    ) -> DeadlineExceeded:
        error = self._deadline_error(request, deadline, attempts)
        self._final(hooks, debug, request, safe_url, path, len(attempts), backend, None, error)
        return error

    @staticmethod
    def _retrying(
        hooks: Sequence[Hook],
        debug: bool,
        request: Request,
        safe_url: str,
        path: str,
        number: int,
        backend: str,
        elapsed: float,
        decision: Decision,
        status: int | None,
        error: str | None = None,
    ) -> None:
        if hooks:
            emit(
                hooks,
                Event(
                    "retry",
                    request.method,
                    safe_url,
                    path,
                    number,
                    backend,
                    status,
                    elapsed,
                    decision.delay,
                    error=error,
                    reason=decision.reason,
                ),
            )
        if debug:
            logger.debug(
                "retry %s %s after attempt %d (%.1f ms) in %.3f s: %s",
                request.method,
                safe_url,
                number,
                elapsed * 1000,
                decision.delay,
                decision.reason,
            )

    @staticmethod
    def _final(
        hooks: Sequence[Hook],
        debug: bool,
        request: Request,
        safe_url: str,
        path: str,
        number: int,
        backend: str,
        elapsed: float | None,
        error: TransportError | FailedRequestError | DeadlineExceeded,
    ) -> None:
        if hooks:
            status = error.status_code if isinstance(error, FailedRequestError) else None
            emit(
                hooks,
                Event(
                    "error",
                    request.method,
                    safe_url,
                    path,
                    number,
                    backend,
                    status,
                    elapsed,
                    error=type(error).__name__,
                ),
            )
        if debug:
            logger.debug(
                "x  %s %s failed after %d attempts: %s",
                request.method,
                safe_url,
                number,
                type(error).__name__,
            )
