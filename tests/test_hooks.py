"""Hooks, MetricsCollector and the OpenTelemetry adapter, in-process and over real sockets."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import datawrapper as dw
from datawrapper._hooks import Event, normalize_hooks
from datawrapper._metrics import MetricsCollector, MetricsSnapshot
from datawrapper._otel import DURATION_BUCKETS, OpenTelemetryHook
from datawrapper.testing import (
    FakeDatawrapperAPI,
    FakeServer,
    Fault,
    FaultScript,
    in_process_transport,
)
from datawrapper.transport import Headers, MockTransport, Request, Response

TOKEN = "hooks-test-token-5f3c9a"
BASE = "https://api.example.test"
BACKENDS = ["requests", "httpx", "urllib3"]


class FakeClock:
    """A monotonic clock for the retry engine that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_client(
    faults: FaultScript, *, hooks: list[object], clock: FakeClock | None = None, **kwargs: object
) -> tuple[dw.Datawrapper, FakeDatawrapperAPI]:
    """A client on the in-process fake API with ``faults``; waits are recorded, never slept."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    clock = clock or FakeClock()
    transport = in_process_transport(api, faults, sleep=clock.advance)
    client = dw.Datawrapper(
        TOKEN,
        base_url=BASE,
        transport=transport,
        hooks=hooks,  # type: ignore[arg-type]
        sleep=clock.sleep,
        clock=clock,
        random=lambda: 0.0,
        timeout=dw.Timeout(5, read=1),
        **kwargs,  # type: ignore[arg-type]
    )
    return client, api


def new_chart(client: dw.Datawrapper) -> str:
    """Create a chart through the client and return its id."""
    chart = client.request("POST", "/charts", json={"title": "t"}).json()
    return str(chart["id"])


def response_event(status: int, elapsed: float, attempt: int = 1) -> Event:
    """A synthetic "response" event."""
    return Event("response", "GET", f"{BASE}/v3/x", "/v3/x", attempt, "mock", status, elapsed)


# --------------------------------------------------------------------------- MetricsCollector


def test_metrics_count_statuses_retries_and_errors_of_a_faulty_session() -> None:
    """A session with a retried 503, a retried 429, a 404 and a lost POST is counted exactly."""
    faults = FaultScript()
    metrics = MetricsCollector()
    client, _ = make_client(faults, hooks=[metrics])
    chart_id = new_chart(client)  # 1 call, 201
    faults.add(Fault.status(503), method="GET", path=f"/charts/{chart_id}$")
    client.request("GET", f"/charts/{chart_id}")  # 503 then 200
    faults.add(Fault.rate_limited("1"), method="POST", path="/charts$")
    new_chart(client)  # 429 then 201
    with pytest.raises(dw.NotFoundError):
        client.request("GET", "/charts/zzzzz")  # 404, not retried
    faults.add(Fault.delay(5), method="POST", path="/charts$")
    with pytest.raises(dw.ReadTimeout):
        new_chart(client)  # read timeout after sending: not retried

    snap = metrics.snapshot()
    assert snap.calls == 5
    assert (snap.successes, snap.failures) == (3, 2)
    assert snap.success_rate == pytest.approx(3 / 5)
    assert snap.attempts == 7
    assert dict(snap.by_status) == {201: 2, 200: 1, 503: 1, 429: 1, 404: 1}
    assert snap.responses == 6
    assert snap.retries == 2
    assert dict(snap.retries_by_cause) == {"503": 1, "429": 1}
    assert snap.retry_wait == pytest.approx(0.5 + 1.0)  # backoff 0.5 s, then Retry-After 1 s
    assert dict(snap.errors) == {"NotFoundError": 1, "ReadTimeout": 1}


def test_metrics_latency_percentiles_use_nearest_rank() -> None:
    """p50/p90/p99/max of 100 latencies 0.01..1.00 s are 0.50, 0.90, 0.99 and 1.00 s."""
    metrics = MetricsCollector()
    for i in range(100, 0, -1):  # out of order on purpose
        metrics(response_event(200, i / 100))
    snap = metrics.snapshot()
    assert snap.latency_p50 == pytest.approx(0.50)
    assert snap.latency_p90 == pytest.approx(0.90)
    assert snap.latency_p99 == pytest.approx(0.99)
    assert snap.latency_max == pytest.approx(1.00)


def test_metrics_latency_window_keeps_only_recent_samples() -> None:
    """With window=10, percentiles describe the last 10 responses, while counts cover all."""
    metrics = MetricsCollector(window=10)
    for i in range(1, 101):
        metrics(response_event(200, float(i)))
    snap = metrics.snapshot()
    assert snap.responses == 100
    assert snap.latency_max == 100.0
    assert snap.latency_p50 == 95.0  # nearest rank 5 of 91..100


def test_metrics_empty_snapshot_has_no_rates() -> None:
    """Before any event the rate and percentiles are None, not zero or a crash."""
    snap = MetricsCollector().snapshot()
    assert snap.calls == 0
    assert snap.success_rate is None
    assert snap.latency_p50 is None and snap.latency_max is None


def test_metrics_snapshot_is_frozen_serialisable_and_reset_clears() -> None:
    """A snapshot cannot be changed, as_dict() is JSON, and reset() starts from zero."""
    metrics = MetricsCollector()
    metrics(response_event(200, 0.1))
    metrics(Event("error", "GET", BASE, "/", 1, "mock", 500, 0.1, error="ServerError"))
    snap = metrics.snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.calls = 7  # type: ignore[misc]
    with pytest.raises(TypeError):
        snap.by_status[200] = 9  # type: ignore[index]
    data = json.loads(json.dumps(snap.as_dict()))
    assert data["by_status"] == {"200": 1}
    assert data["errors"] == {"ServerError": 1}
    metrics.reset()
    assert metrics.snapshot() == MetricsSnapshot(
        0, 0, 0, None, 0, 0, {}, 0, 0.0, {}, {}, None, None, None, None
    )
    assert snap.calls == 2  # the old snapshot is unaffected


def test_metrics_collector_is_thread_safe() -> None:
    """8 threads x 2000 events lose no count."""
    metrics = MetricsCollector(window=100)
    start = threading.Barrier(8)

    def work() -> None:
        start.wait(timeout=10)
        for i in range(1000):
            metrics(Event("request", "GET", BASE, "/", 1, "mock"))
            metrics(response_event(200 if i % 2 else 503, 0.001))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    snap = metrics.snapshot()
    assert snap.attempts == 8000
    assert dict(snap.by_status) == {200: 4000, 503: 4000}


def test_metrics_collector_rejects_a_bad_window() -> None:
    """window must be a positive int, and the error names it."""
    with pytest.raises(ValueError, match="window"):
        MetricsCollector(window=0)


# --------------------------------------------------------------------------- hook events


def test_retry_event_after_a_transport_error_names_the_error_class() -> None:
    """A retry after a ReadTimeout carries error="ReadTimeout" and no status."""
    faults = FaultScript()
    events: list[Event] = []
    metrics = MetricsCollector()
    client, _ = make_client(faults, hooks=[events.append, metrics])
    chart_id = new_chart(client)
    faults.add(Fault.delay(5), method="GET")
    client.request("GET", f"/charts/{chart_id}")
    retries = [e for e in events if e.kind == "retry"]
    assert len(retries) == 1
    assert retries[0].error == "ReadTimeout"
    assert retries[0].status_code is None
    assert retries[0].retry_delay == pytest.approx(0.5)
    assert dict(metrics.snapshot().retries_by_cause) == {"ReadTimeout": 1}


def test_deadline_exceeded_emits_a_final_error_event() -> None:
    """A call stopped by its deadline ends with an "error" event, so metrics count it."""
    clock = FakeClock()

    def overshooting_sleep(seconds: float) -> None:
        clock.sleep(seconds * 3)  # an OS sleep that overshoots eats the rest of the deadline

    events: list[Event] = []
    metrics = MetricsCollector()
    transport = MockTransport(lambda request: Response(503))
    client = dw.Datawrapper(
        TOKEN,
        base_url=BASE,
        transport=transport,
        hooks=[events.append, metrics],
        sleep=overshooting_sleep,
        clock=clock,
        random=lambda: 0.0,
        deadline=1.0,
    )
    with pytest.raises(dw.DeadlineExceeded):
        client.request("GET", "/charts")
    assert events[-1].kind == "error"
    assert events[-1].error == "DeadlineExceeded"
    snap = metrics.snapshot()
    assert (snap.calls, snap.failures) == (1, 1)
    assert dict(snap.errors) == {"DeadlineExceeded": 1}


@pytest.mark.parametrize("backend", BACKENDS)
def test_events_over_real_sockets_carry_backend_path_and_redacted_url(backend: str) -> None:
    """Each backend emits request and response events with its name, the path and no token."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    events: list[Event] = []
    with FakeServer(api) as server:
        client = dw.Datawrapper(TOKEN, base_url=server.url, transport=backend, hooks=events.append)
        with client:
            client.request("GET", "/charts", params={"access_token": "qs-secret-value"})
    assert [e.kind for e in events] == ["request", "response"]
    for event in events:
        assert event.backend == backend
        assert event.path == "/v3/charts"
        assert "qs-secret-value" not in event.url and TOKEN not in repr(event)
        assert event.url.startswith(server.url)
    assert events[1].status_code == 200
    assert events[1].elapsed is not None and events[1].elapsed >= 0


def test_a_failing_hook_is_logged_and_never_breaks_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hook that raises is logged on datawrapper.hooks; the call and later hooks go on."""

    def broken(event: Event) -> None:
        raise RuntimeError("hook exploded")

    after: list[str] = []
    client, _ = make_client(FaultScript(), hooks=[broken, lambda e: after.append(e.kind)])
    with caplog.at_level(logging.ERROR, logger="datawrapper.hooks"):
        response = client.request("GET", "/charts")
    assert response.status_code == 200
    assert after == ["request", "response"]
    records = [r for r in caplog.records if r.name == "datawrapper.hooks"]
    assert len(records) == 2  # once per event
    assert all(r.levelno == logging.ERROR and r.exc_info for r in records)
    assert "hook exploded" in caplog.text


def test_normalize_hooks_rejects_non_callables_with_a_hint() -> None:
    """hooks=[42] raises a TypeError that says what a hook must be."""
    assert normalize_hooks(None) == ()
    with pytest.raises(TypeError, match="callables taking one Event"):
        normalize_hooks([42])  # type: ignore[list-item]


# --------------------------------------------------------------------------- OpenTelemetry


@pytest.fixture
def otel() -> Iterator[tuple[OpenTelemetryHook, InMemorySpanExporter, InMemoryMetricReader]]:
    """An OpenTelemetryHook wired to in-memory span and metric exporters."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    hook = OpenTelemetryHook(tracer_provider=tracer_provider, meter_provider=meter_provider)
    yield hook, exporter, reader
    tracer_provider.shutdown()
    meter_provider.shutdown()


def test_otel_records_one_client_span_per_attempt(
    otel: tuple[OpenTelemetryHook, InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    """A 503 then 200 makes two CLIENT spans with HTTP semantic-convention attributes."""
    hook, exporter, _ = otel
    faults = FaultScript()
    client, _ = make_client(faults, hooks=[hook])
    faults.add(Fault.status(503), method="GET")
    client.request("GET", "/charts", params={"access_token": "qs-secret-value"})
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["GET", "GET"]
    assert all(s.kind is SpanKind.CLIENT for s in spans)
    first, second = (dict(s.attributes or {}) for s in spans)
    assert first["http.response.status_code"] == 503
    assert first["error.type"] == "503"
    assert "http.request.resend_count" not in first
    assert second["http.response.status_code"] == 200
    assert "error.type" not in second
    assert second["http.request.resend_count"] == 1
    for attrs in (first, second):
        assert attrs["http.request.method"] == "GET"
        assert attrs["server.address"] == "api.example.test"
        assert attrs["server.port"] == 443
        assert attrs["url.scheme"] == "https"
        assert attrs["url.path"] == "/v3/charts"
        assert attrs["url.full"] == f"{BASE}/v3/charts?access_token=%5BREDACTED%5D" or (
            attrs["url.full"] == f"{BASE}/v3/charts?access_token=[REDACTED]"
        )
        assert attrs["datawrapper.backend"] == "mock"
    assert spans[0].status.status_code is StatusCode.ERROR
    assert spans[1].status.status_code is StatusCode.UNSET
    assert spans[0].end_time is not None and spans[0].start_time is not None
    assert spans[0].end_time >= spans[0].start_time


def test_otel_transport_error_span_has_error_type_and_no_status(
    otel: tuple[OpenTelemetryHook, InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    """A read timeout attempt is a span with error.type="ReadTimeout" and no status code."""
    hook, exporter, _ = otel
    faults = FaultScript()
    client, _ = make_client(faults, hooks=[hook])
    faults.add(Fault.delay(5), method="GET")
    client.request("GET", "/charts")
    failed, ok = (dict(s.attributes or {}) for s in exporter.get_finished_spans())
    assert failed["error.type"] == "ReadTimeout"
    assert "http.response.status_code" not in failed
    assert ok["http.response.status_code"] == 200


def test_otel_duration_histogram_has_one_point_per_attempt_without_urls(
    otel: tuple[OpenTelemetryHook, InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    """http.client.request.duration (unit s) counts each attempt, with low-cardinality attributes."""
    hook, _, reader = otel
    faults = FaultScript()
    client, _ = make_client(faults, hooks=[hook])
    faults.add(Fault.status(503), method="GET", times=2)
    client.request("GET", "/charts")
    data = reader.get_metrics_data()
    assert data is not None
    metrics = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    (duration,) = [m for m in metrics if m.name == "http.client.request.duration"]
    assert duration.unit == "s"
    points = list(duration.data.data_points)  # type: ignore[union-attr]
    by_status = {dict(p.attributes or {})["http.response.status_code"]: p for p in points}
    assert by_status[503].count == 2
    assert by_status[200].count == 1
    assert tuple(by_status[200].explicit_bounds) == DURATION_BUCKETS
    for point in points:
        attrs = dict(point.attributes or {})
        assert "url.full" not in attrs and "url.path" not in attrs
        assert attrs["http.request.method"] == "GET"


def test_otel_spans_are_children_of_the_callers_current_span(
    otel: tuple[OpenTelemetryHook, InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    """Attempt spans nest under the span that is current when the call is made."""
    hook, exporter, _ = otel
    client, _ = make_client(FaultScript(), hooks=[hook])
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("job").start_as_current_span("nightly-job") as parent:
        client.request("GET", "/charts")
    (attempt,) = [s for s in exporter.get_finished_spans() if s.name == "GET"]
    assert attempt.parent is not None
    assert attempt.parent.span_id == parent.get_span_context().span_id


def test_otel_hook_without_opentelemetry_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without OpenTelemetry installed, creating the hook raises ImportError naming the extra."""
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ImportError, match=r"datawrapper\[otel\]"):
        OpenTelemetryHook()


def test_otel_hook_ignores_events_that_end_no_attempt(
    otel: tuple[OpenTelemetryHook, InMemorySpanExporter, InMemoryMetricReader],
) -> None:
    """ "request" events and an "error" after a status response add no second span."""
    hook, exporter, _ = otel
    hook(Event("request", "GET", BASE, "/", 1, "mock"))
    hook(Event("response", "GET", BASE, "/", 1, "mock", 404, 0.01))
    hook(Event("error", "GET", BASE, "/", 1, "mock", 404, 0.01, error="NotFoundError"))
    spans = exporter.get_finished_spans()
    assert len(spans) == 1
    assert dict(spans[0].attributes or {})["error.type"] == "404"


def test_headers_of_requests_stay_out_of_events() -> None:
    """Event objects carry no headers at all, so Authorization cannot leak through them."""
    fields = {f.name for f in dataclasses.fields(Event)}
    assert not any("header" in name for name in fields)
    request = Request("GET", f"{BASE}/v3/x", Headers({"Authorization": f"Bearer {TOKEN}"}))
    assert TOKEN not in repr(request) and TOKEN not in repr(request.headers)


# --------------------------------------------------------------------------- the docs example


def test_observability_doc_example_runs_and_prints_what_it_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The runnable example of docs/observability.md runs offline and prints its comments."""
    doc = Path(__file__).resolve().parent.parent / "docs" / "observability.md"
    code = doc.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    # Until datawrapper/__init__.py exports them, provide the names the docs use.
    monkeypatch.setattr(dw, "MetricsCollector", MetricsCollector, raising=False)
    monkeypatch.setattr(dw, "OpenTelemetryHook", OpenTelemetryHook, raising=False)
    root, package = logging.getLogger(), logging.getLogger("datawrapper")
    handlers, level = list(root.handlers), package.level
    try:
        exec(compile(code, str(doc), "exec"), {"__name__": "doc_example"})
    finally:
        root.handlers[:] = handlers
        package.setLevel(level)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "3 2 1"
    assert printed[1] == "{201: 1, 503: 1, 200: 1, 404: 1}"
    assert printed[2] == "{'503': 1} {'NotFoundError': 1}"
    p50, p99 = (float(x) for x in printed[3].split())
    assert 0 < p50 <= p99
    assert (
        printed[4]
        == "[('request', 1, None), ('response', 1, 201), ('request', 1, None), ('response', 1, 503)]"
    )
