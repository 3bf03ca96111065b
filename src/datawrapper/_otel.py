""":class:`OpenTelemetryHook`: spans and metrics for every HTTP attempt, with OpenTelemetry.

Needs the ``otel`` extra (``pip install 'datawrapper[otel]'``), imported only when a hook is
created, so the package itself never depends on OpenTelemetry.

::

    from datawrapper import Datawrapper, OpenTelemetryHook

    client = Datawrapper(hooks=[OpenTelemetryHook()])  # global tracer and meter providers

What is recorded follows the OpenTelemetry semantic conventions for HTTP clients:

- **One span per attempt** (``SpanKind.CLIENT``, named after the method, e.g. ``"GET"``):
  the conventions ask for one span per physical request, and a retry is a new request
  carrying ``http.request.resend_count``. The span covers the attempt from sending to the end
  of the response (or the failure); the waits between attempts are not inside any span.
  Spans are created when the attempt has finished, with its real start and end times, as
  children of whatever span is current in the calling thread.
- **The histogram** ``http.client.request.duration`` (unit ``s``, the conventional bucket
  boundaries), one measurement per attempt, with the low-cardinality attributes only.

Attributes: ``http.request.method``, ``server.address``, ``server.port``, ``url.scheme``,
``http.response.status_code``, ``error.type`` (the status code as a string for a status of
400 or more, else the exception class name such as ``"ReadTimeout"``), and on spans also
``url.full`` (already redacted: no token-like query values), ``url.path``,
``http.request.resend_count`` (from the second attempt on) and ``datawrapper.backend``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._hooks import Event

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = ["DURATION_BUCKETS", "OpenTelemetryHook"]

#: The bucket boundaries (seconds) the HTTP semantic conventions advise for request durations.
DURATION_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)

_KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_INSTRUMENTATION = "datawrapper"


def _version() -> str:
    from . import __version__

    return __version__


class OpenTelemetryHook:
    """A hook that records a span and a duration measurement per HTTP attempt.

    ``tracer_provider`` and ``meter_provider`` default to the global providers of
    ``opentelemetry.trace`` and ``opentelemetry.metrics``; pass your own to keep the data
    apart (as tests do with the SDK's in-memory exporters). Thread-safe and stateless: it
    needs no pairing of start and end events, so one hook may serve many clients.

    Raises :class:`ImportError` naming the ``otel`` extra when OpenTelemetry is not installed.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        record_spans: bool = True,
        record_metrics: bool = True,
    ) -> None:
        try:
            from opentelemetry import metrics, trace
            from opentelemetry.trace import SpanKind, Status, StatusCode
        except ImportError as exc:
            raise ImportError(
                "OpenTelemetryHook needs the OpenTelemetry API, which is not installed: "
                "run pip install 'datawrapper[otel]'"
            ) from exc
        version = _version()
        self._kind = SpanKind.CLIENT
        self._status = Status
        self._error_code = StatusCode.ERROR
        self._tracer: Tracer | None = None
        self._duration: Histogram | None = None
        if record_spans:
            provider = tracer_provider or trace.get_tracer_provider()
            self._tracer = provider.get_tracer(_INSTRUMENTATION, version)
        if record_metrics:
            meter = (meter_provider or metrics.get_meter_provider()).get_meter(
                _INSTRUMENTATION, version
            )
            histogram: dict[str, Any] = {
                "name": "http.client.request.duration",
                "unit": "s",
                "description": "Duration of HTTP client requests.",
            }
            try:
                self._duration = meter.create_histogram(
                    **histogram, explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS)
                )
            except TypeError:  # opentelemetry-api before 1.23 has no bucket advice
                self._duration = meter.create_histogram(**histogram)

    def __call__(self, event: Event) -> None:
        """Record the attempt that ``event`` ends (the hook interface)."""
        if event.elapsed is None:
            return
        if event.kind == "response":
            status: int | None = event.status_code
            error_type = str(status) if status is not None and status >= 400 else None
        elif event.kind in ("retry", "error") and event.status_code is None:
            # An attempt that failed without a response: a transport error.
            status = None
            error_type = event.error or _error_from_reason(event.reason)
        else:
            # "request" starts an attempt; a retry or error after a status was recorded on
            # its "response" event already.
            return
        common, extra = self._attributes(event, status, error_type)
        if self._duration is not None:
            self._duration.record(event.elapsed, common)
        if self._tracer is not None:
            end = time.time_ns()
            start = end - max(0, int(event.elapsed * 1e9))
            span = self._tracer.start_span(
                common["http.request.method"],
                kind=self._kind,
                attributes={**common, **extra},
                start_time=start,
            )
            if error_type is not None:
                span.set_status(self._status(self._error_code, event.reason or error_type))
            span.end(end_time=end)

    @staticmethod
    def _attributes(
        event: Event, status: int | None, error_type: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(attributes for metrics and spans, attributes for spans only)."""
        method = event.method.upper()
        common: dict[str, Any] = {
            "http.request.method": method if method in _KNOWN_METHODS else "_OTHER"
        }
        extra: dict[str, Any] = {}
        if method not in _KNOWN_METHODS:
            extra["http.request.method_original"] = event.method
        try:
            parts = urlsplit(event.url)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is not None and parts.hostname:
            common["server.address"] = parts.hostname
            default = _DEFAULT_PORTS.get(parts.scheme)
            if port is not None or default is not None:
                common["server.port"] = port if port is not None else default
            if parts.scheme:
                common["url.scheme"] = parts.scheme
        if status is not None:
            common["http.response.status_code"] = status
        if error_type is not None:
            common["error.type"] = error_type
        if event.url:
            extra["url.full"] = event.url
        if event.path:
            extra["url.path"] = event.path
        if event.attempt > 1:
            extra["http.request.resend_count"] = event.attempt - 1
        if event.backend:
            extra["datawrapper.backend"] = event.backend
        return common, extra

    def __repr__(self) -> str:
        parts = [name for name, on in (("spans", self._tracer), ("metrics", self._duration)) if on]
        return f"<OpenTelemetryHook {'+'.join(parts) or 'off'}>"


def _error_from_reason(reason: str) -> str:
    head = reason.split(",", 1)[0].split(" ", 1)[0].strip()
    return head if head.isidentifier() else "_OTHER"
