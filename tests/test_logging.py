"""Logging: standard ``logging``, logger ``datawrapper`` with one child per layer, DEBUG only
on the happy path, and a DEBUG line for every request, response, retry and final failure."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest

import datawrapper as dw
import datawrapper._client
import datawrapper._hooks
import datawrapper.transport._base
import datawrapper.transport._retry
from datawrapper.testing import (
    FakeDatawrapperAPI,
    FakeServer,
    Fault,
    FaultScript,
    in_process_transport,
)

TOKEN = "logging-test-token-8e1d2b"
BASE = "https://api.example.test"
BACKENDS = ["requests", "httpx", "urllib3"]
SRC = Path(datawrapper.__file__).parent


def in_process_client(faults: FaultScript, **kwargs: object) -> dw.Datawrapper:
    """A client on the in-process fake API; waits are recorded, never slept."""
    transport = in_process_transport(
        FakeDatawrapperAPI(tokens=[TOKEN]), faults, sleep=lambda s: None
    )
    return dw.Datawrapper(
        TOKEN,
        base_url=BASE,
        transport=transport,
        sleep=lambda s: None,
        random=lambda: 0.0,
        timeout=dw.Timeout(5, read=0.5),
        **kwargs,  # type: ignore[arg-type]
    )


def lines(caplog: pytest.LogCaptureFixture, name: str = "datawrapper.retry") -> list[str]:
    """The formatted messages of logger ``name``."""
    return [r.getMessage() for r in caplog.records if r.name == name]


def test_every_layer_logs_to_a_child_of_the_datawrapper_logger() -> None:
    """Transport, retry, client and hooks each log to datawrapper.<layer>, which propagates."""
    names = {
        datawrapper.transport._base.logger.name,
        datawrapper.transport._retry.logger.name,
        datawrapper._client.logger.name,
        datawrapper._hooks.logger.name,
    }
    assert names == {
        "datawrapper.transport",
        "datawrapper.retry",
        "datawrapper.client",
        "datawrapper.hooks",
    }
    root = logging.getLogger("datawrapper")
    for name in names:
        logger = logging.getLogger(name)
        assert logger.parent is root and logger.propagate


def test_library_code_never_calls_print() -> None:
    """No module of the package (testing helpers included) calls print()."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == [] or all(o.startswith("_cli") for o in offenders), offenders


@pytest.mark.parametrize("backend", BACKENDS)
def test_happy_path_logs_only_debug_on_every_backend(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Create, read, upload and list over real sockets: every datawrapper record is DEBUG."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    with FakeServer(api) as server:
        client = dw.Datawrapper(TOKEN, base_url=server.url, transport=backend)
        with caplog.at_level(logging.DEBUG, logger="datawrapper"):
            chart = client.request("POST", "/charts", json={"title": "t"}).json()
            client.request("GET", f"/charts/{chart['id']}")
            client.request(
                "PUT", f"/charts/{chart['id']}/data", content=b"a,b\n1,2", content_type="text/csv"
            )
            client.request("GET", "/charts")
            client.close()
        server.wait_for_idle(2)
    records = [r for r in caplog.records if r.name.startswith("datawrapper")]
    assert records, "DEBUG logging produced nothing"
    assert {r.levelno for r in records} == {logging.DEBUG}
    messages = lines(caplog)
    assert sum(m.startswith("-> ") for m in messages) == 4
    assert sum(m.startswith("<- ") for m in messages) == 4
    assert all(TOKEN not in r.getMessage() for r in records)


def test_request_and_response_lines_show_method_redacted_url_status_attempt_and_ms(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The request line has method, redacted URL, attempt and backend; the response adds
    status and elapsed milliseconds."""
    client = in_process_client(FaultScript())
    with caplog.at_level(logging.DEBUG, logger="datawrapper"):
        client.request("GET", "/charts", params={"access_token": "query-secret-123", "limit": 5})
    sent, received = lines(caplog)
    assert "query-secret-123" not in sent + received
    assert re.fullmatch(
        r"-> GET https://api\.example\.test/v3/charts\?access_token=\S*REDACTED\S*&limit=5 "
        r"attempt 1 via mock",
        sent,
    ), sent
    assert re.fullmatch(
        r"<- GET https://api\.example\.test/v3/charts\?\S+ 200 in \d+\.\d ms \(attempt 1\)",
        received,
    ), received


def test_retry_lines_give_the_delay_and_why(caplog: pytest.LogCaptureFixture) -> None:
    """A 503 (backoff) and a 429 (Retry-After) each log the chosen wait and its reason."""
    faults = FaultScript()
    faults.add(Fault.status(503), method="GET")
    faults.add(Fault.rate_limited("2"), method="GET")
    client = in_process_client(faults)
    with caplog.at_level(logging.DEBUG, logger="datawrapper"):
        client.request("GET", "/charts")
    retries = [m for m in lines(caplog) if m.startswith("retry ")]
    assert len(retries) == 2
    assert "after attempt 1" in retries[0]
    assert "0.500 s" in retries[0] and "status 503, backoff 0.5 s" in retries[0]
    assert "after attempt 2" in retries[1]
    assert "2.000 s" in retries[1] and "status 429, Retry-After 2 s" in retries[1]
    responses = [m for m in lines(caplog) if m.startswith("<- ")]
    assert [m.split()[3] for m in responses] == ["503", "429", "200"]


def test_transport_error_retry_line_has_the_error_and_elapsed_ms(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A retry after a read timeout names the error and how long the failed attempt took."""
    faults = FaultScript()
    faults.add(Fault.delay(5), method="GET")
    client = in_process_client(faults)
    with caplog.at_level(logging.DEBUG, logger="datawrapper"):
        client.request("GET", "/charts")
    (retry,) = [m for m in lines(caplog) if m.startswith("retry ")]
    assert "ReadTimeout" in retry
    assert re.search(r"\d+\.\d ms", retry), retry


def test_final_failure_line_names_the_error_and_attempts(caplog: pytest.LogCaptureFixture) -> None:
    """A call that fails for good ends with a DEBUG line naming the attempts and the error."""
    faults = FaultScript()
    faults.add(Fault.status(503), method="GET", times=10)
    client = in_process_client(faults, max_retries=2)
    with caplog.at_level(logging.DEBUG, logger="datawrapper"), pytest.raises(dw.ServerError):
        client.request("GET", "/charts")
    final = lines(caplog)[-1]
    assert final.startswith("x  GET https://api.example.test/v3/charts")
    assert "after 3 attempts" in final and "ServerError" in final
    assert {r.levelno for r in caplog.records if r.name.startswith("datawrapper")} == {
        logging.DEBUG
    }


def test_nothing_is_logged_when_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    """At the default WARNING level a faulty but successful call logs nothing at all."""
    faults = FaultScript()
    faults.add(Fault.status(503), method="GET")
    client = in_process_client(faults)
    with caplog.at_level(logging.WARNING, logger="datawrapper"):
        client.request("GET", "/charts")
    assert [r for r in caplog.records if r.name.startswith("datawrapper")] == []


def test_redirect_that_drops_authorization_is_logged_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Following a redirect to another origin logs on datawrapper.client that the token was dropped."""
    with FakeServer() as target:
        location = f"{target.url}/elsewhere"

        def redirecting(request: dw.Request) -> dw.Response:
            return dw.Response(307, dw.Headers({"Location": location}))

        with FakeServer(redirecting) as origin:
            client = dw.Datawrapper(TOKEN, base_url=origin.url, transport="urllib3")
            with caplog.at_level(logging.DEBUG, logger="datawrapper"):
                client.request("GET", "/charts")
            client.close()
            origin.wait_for_idle(2)
        target.wait_for_idle(2)
    (line,) = lines(caplog, "datawrapper.client")
    assert "Authorization dropped" in line
