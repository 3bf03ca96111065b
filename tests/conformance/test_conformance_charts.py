"""Conformance: one ``create_chart`` call makes at most one chart, whatever the faults.

FakeDatawrapperAPI runs behind the fake server (and in-process behind MockTransport). For
each example hypothesis scripts a sequence of faults on ``POST /v3/charts`` and a number of
calls; then, on every backend, each call must have created exactly one chart when it
succeeded (the one it returned), none when it failed in a way known not to be processed, and
at most one when the outcome is unknown (and then the exception says so). The same faults
must give the same results on every backend.
"""

from __future__ import annotations

from collections.abc import Callable

from _conformance import WITH_MOCK, SleepRecorder, make_client, settle
from hypothesis import event, given
from hypothesis import strategies as st

from datawrapper._exceptions import DatawrapperError, FailedRequestError, TransportError
from datawrapper.testing import FakeDatawrapperAPI, FakeServer, Fault, FaultScript
from datawrapper.transport import Timeout

READ = 0.3  # ample for a normal answer on a loaded box; the stalls exceed it
STALL = 0.6

POST_FAULTS: dict[str, Callable[[], Fault]] = {
    "429": lambda: Fault.rate_limited(),
    "429 retry-after 1": lambda: Fault.rate_limited("1"),
    "500": lambda: Fault.status(500),
    "503": lambda: Fault.status(503),
    "reset": Fault.reset,
    "reset, processed": lambda: Fault.reset(process=True),
    "close before response": Fault.close_before_response,
    "close before response, processed": lambda: Fault.close_before_response(process=True),
    "close after headers": Fault.close_after_headers,
    "truncated body": Fault.truncated_body,
    "truncated body, unprocessed": lambda: Fault.truncated_body(process=False),
    "stall": lambda: Fault.delay(STALL, process=False),
    "stall, processed": lambda: Fault.delay(STALL, process=True),
}


@given(
    faults=st.lists(st.sampled_from(sorted(POST_FAULTS)), max_size=4),
    calls=st.integers(1, 3),
    max_retries=st.integers(0, 3),
)
def test_one_chart_per_create_chart_call(
    api_server: FakeServer,
    api: FakeDatawrapperAPI,
    faults: list[str],
    calls: int,
    max_retries: int,
) -> None:
    """Each create_chart call creates exactly one chart when it succeeds, none when it fails
    unprocessed, at most one when the outcome is unknown; identically on every backend."""
    results: dict[str, list[tuple[str, int]]] = {}
    for backend in WITH_MOCK:
        api.reset()
        script = FaultScript() if backend == "mock" else api_server.faults
        script.clear()
        for name in faults:
            script.add(POST_FAULTS[name](), method="POST", path="^/v3/charts$")
        sleeps = SleepRecorder()
        per_call: list[tuple[str, int]] = []
        with make_client(
            backend,
            api_server,
            app=api,
            faults=script,
            max_retries=max_retries,
            timeout=Timeout(5, read=READ),
            sleep=sleeps,
        ) as client:
            for number in range(calls):
                before = api.created_count
                failure: DatawrapperError | None = None
                try:
                    chart = client.create_chart(title=f"chart {number}", chart_type="d3-lines")
                except DatawrapperError as exc:
                    failure = exc
                created = api.created_count - before
                if failure is not None:
                    assert created <= 1
                    unknown = (
                        failure.outcome_unknown
                        if isinstance(failure, TransportError)
                        else isinstance(failure, FailedRequestError) and failure.status_code >= 500
                    )
                    if created == 1:
                        assert unknown, f"{failure!r} hid that a chart may have been created"
                    per_call.append((type(failure).__name__, created))
                else:
                    assert created == 1
                    assert chart["id"] in api.charts
                    assert api.charts[chart["id"]]["title"] == f"chart {number}"
                    per_call.append(("created", 1))
        if backend != "mock":
            settle(api_server)
        assert api.created_count == sum(created for _, created in per_call)
        assert len(api.charts) == api.created_count
        results[backend] = per_call
    assert all(outcome == results["requests"] for outcome in results.values()), results
    for name, created in results["requests"]:
        event(f"call ended with {name}, {created} chart(s) created")
