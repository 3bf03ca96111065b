""":class:`MetricsCollector`: a hook that counts what a client did, for dashboards and logs.

::

    metrics = MetricsCollector()
    client = Datawrapper(hooks=[metrics])
    ...
    snap = metrics.snapshot()
    print(snap.success_rate, snap.by_status, snap.latency_p99)

It only reads the :class:`~datawrapper.Event` objects the retry engine emits, so it works
the same on every backend and costs one lock acquisition per event.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ._hooks import Event

__all__ = ["MetricsCollector", "MetricsSnapshot"]


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of the sorted ``ordered`` (None when it is empty)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """The counters of a :class:`MetricsCollector` at one moment (read-only).

    - ``calls``: finished calls, ``successes + failures``. A call is one request with all
      its retries; a redirect that the client follows counts as a call of its own.
    - ``successes``: calls that got a status below 400; ``failures``: calls that raised
      (a final status error, a transport error, or a passed deadline).
    - ``success_rate``: ``successes / calls``, or None before the first finished call.
    - ``attempts``: requests actually started (first tries and retries).
    - ``responses`` and ``by_status``: responses received, in total and per status code
      (every attempt's response, including those that were retried).
    - ``retries``: retries decided; ``retry_wait``: the sum of their waits in seconds;
      ``retries_by_cause``: per cause, the status code (``"503"``) or the exception class
      (``"ReadTimeout"``) that made the client try again.
    - ``errors``: failed calls per exception class name (``"ServerError"``, ``"ConnectError"``).
    - ``latency_p50``, ``latency_p90``, ``latency_p99``, ``latency_max``: seconds from sending
      an attempt to its complete response, over the most recent ``window`` responses
      (nearest-rank percentiles); None before the first response.
    """

    calls: int
    successes: int
    failures: int
    success_rate: float | None
    attempts: int
    responses: int
    by_status: Mapping[int, int]
    retries: int
    retry_wait: float
    retries_by_cause: Mapping[str, int]
    errors: Mapping[str, int]
    latency_p50: float | None
    latency_p90: float | None
    latency_p99: float | None
    latency_max: float | None

    def as_dict(self) -> dict[str, Any]:
        """The snapshot as plain JSON-serialisable types (status codes become strings)."""
        return {
            "calls": self.calls,
            "successes": self.successes,
            "failures": self.failures,
            "success_rate": self.success_rate,
            "attempts": self.attempts,
            "responses": self.responses,
            "by_status": {str(code): count for code, count in sorted(self.by_status.items())},
            "retries": self.retries,
            "retry_wait": self.retry_wait,
            "retries_by_cause": dict(sorted(self.retries_by_cause.items())),
            "errors": dict(sorted(self.errors.items())),
            "latency_p50": self.latency_p50,
            "latency_p90": self.latency_p90,
            "latency_p99": self.latency_p99,
            "latency_max": self.latency_max,
        }


class MetricsCollector:
    """A thread-safe hook counting statuses, successes, retries, errors and latencies.

    Pass it in ``Datawrapper(hooks=[collector])``; one collector may be shared by many clients
    and threads. :meth:`snapshot` returns the current numbers as a frozen
    :class:`MetricsSnapshot`; :meth:`reset` starts again from zero. Latency percentiles are
    computed over the most recent ``window`` response times (default 10 000), so memory stays
    bounded however long the process runs.
    """

    def __init__(self, *, window: int = 10_000) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"MetricsCollector window must be an int >= 1, got {window!r}")
        self.window = window
        self._lock = threading.Lock()
        self._latencies: deque[float] = deque(maxlen=window)
        self._zero()

    def _zero(self) -> None:
        self._attempts = 0
        self._responses = 0
        self._successes = 0
        self._failures = 0
        self._retries = 0
        self._retry_wait = 0.0
        self._by_status: Counter[int] = Counter()
        self._retries_by_cause: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._latencies.clear()

    def __call__(self, event: Event) -> None:
        """Count ``event`` (the hook interface)."""
        kind = event.kind
        with self._lock:
            if kind == "request":
                self._attempts += 1
            elif kind == "response":
                self._responses += 1
                if event.status_code is not None:
                    self._by_status[event.status_code] += 1
                    if event.status_code < 400:
                        self._successes += 1
                if event.elapsed is not None:
                    self._latencies.append(event.elapsed)
            elif kind == "retry":
                self._retries += 1
                self._retry_wait += event.retry_delay or 0.0
                if event.status_code is not None:
                    cause = str(event.status_code)
                else:
                    cause = event.error or _cause_from_reason(event.reason)
                self._retries_by_cause[cause] += 1
            elif kind == "error":
                self._failures += 1
                self._errors[event.error or "unknown"] += 1

    def snapshot(self) -> MetricsSnapshot:
        """The numbers counted so far, as a frozen :class:`MetricsSnapshot`."""
        with self._lock:
            ordered = sorted(self._latencies)
            calls = self._successes + self._failures
            return MetricsSnapshot(
                calls=calls,
                successes=self._successes,
                failures=self._failures,
                success_rate=self._successes / calls if calls else None,
                attempts=self._attempts,
                responses=self._responses,
                by_status=MappingProxyType(dict(self._by_status)),
                retries=self._retries,
                retry_wait=self._retry_wait,
                retries_by_cause=MappingProxyType(dict(self._retries_by_cause)),
                errors=MappingProxyType(dict(self._errors)),
                latency_p50=_percentile(ordered, 0.50),
                latency_p90=_percentile(ordered, 0.90),
                latency_p99=_percentile(ordered, 0.99),
                latency_max=ordered[-1] if ordered else None,
            )

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self._zero()

    def __repr__(self) -> str:
        with self._lock:
            calls = self._successes + self._failures
            return (
                f"<MetricsCollector calls={calls} failures={self._failures} "
                f"retries={self._retries}>"
            )


def _cause_from_reason(reason: str) -> str:
    """The exception class name at the start of a retry reason ("ReadTimeout, backoff ...")."""
    head = reason.split(",", 1)[0].strip()
    return head if head.isidentifier() else "unknown"
