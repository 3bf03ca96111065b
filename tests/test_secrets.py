"""Secrets: after a faulty session with DEBUG logging and hooks on, the API token (and any
token-like query parameter) appears nowhere a human or a CI log could see it; redirects never
carry ``Authorization`` to another origin; TLS verification is on by default and switching it
off is logged once."""

from __future__ import annotations

import json
import logging
import socket
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

import datawrapper as dw
import datawrapper.transport._base as transport_base
from datawrapper._hooks import Event
from datawrapper.testing import FakeDatawrapperAPI, FakeServer, Fault, echo_app

TOKEN = "dwtoken0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0"
QUERY_SECRET = "qsecret5e6f7a8b9c0d"
BACKENDS = ("requests", "httpx", "urllib3")


def closed_port() -> int:
    """A loopback port with nothing listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exception_texts(exc: BaseException) -> Iterator[str]:
    """Every text an error report could show for ``exc`` and the chain behind it.

    Our exceptions are searched deeply (message, repr, every attribute, the attempt history,
    request and response with their headers). For the HTTP library's exceptions chained
    behind them, what a printed traceback shows: their formatted message.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield from traceback.format_exception_only(type(current), current)
        if isinstance(current, dw.DatawrapperError):
            yield repr(current)
            yield repr(current.args)
            yield repr(vars(current))
            for name in ("attempts", "request", "response"):
                value = getattr(current, name, None)
                if value is not None:
                    yield repr(value)
                    yield repr(getattr(value, "headers", ""))
            response = getattr(current, "response", None)
            if response is not None:
                yield repr(response.request)
        current = current.__cause__ or current.__context__


def faulty_session(backend: str, events: list[Event]) -> list[BaseException]:
    """Run calls that hit 503, 429, 500 echoing the token, timeouts, a reset, a refused
    connection and finally a 401; return the exceptions raised."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    errors: list[BaseException] = []
    echo = json.dumps({"statusCode": 500, "error": "Internal", "message": f"bad token {TOKEN}"})
    with FakeServer(api) as server:
        client = dw.Datawrapper(
            TOKEN,
            base_url=server.url,
            transport=backend,
            max_retries=1,
            timeout=dw.Timeout(2, read=0.2),
            hooks=[events.append],
            sleep=lambda s: None,
        )
        chart = client.request("POST", "/charts", json={"title": "t"}).json()
        path = f"/charts/{chart['id']}"
        scripted = [
            (Fault.status(503), "GET", 1),
            (Fault.rate_limited("0"), "POST", 1),
            (Fault.status(500, body=echo.encode()), "GET", 2),
            (Fault.delay(0.5), "GET", 2),
            (Fault.reset(), "PUT", 2),
            (Fault.truncated_body(), "GET", 2),
        ]
        for fault, method, times in scripted:
            server.faults.add(fault, method=method, times=times)
            try:
                if method == "POST":
                    client.request("POST", "/charts", json={"title": "again"})
                elif method == "PUT":
                    client.request("PUT", path, json={"title": "x"})
                else:
                    client.request("GET", path, params={"access_token": QUERY_SECRET})
            except dw.DatawrapperError as exc:
                errors.append(exc)
        api.remove_token(TOKEN)
        with pytest.raises(dw.UnauthorizedError) as unauthorized:
            client.request("GET", "/charts", params={"api_key": QUERY_SECRET})
        errors.append(unauthorized.value)
        client.close()
        server.wait_for_idle(2)
    refused = dw.Datawrapper(
        TOKEN,
        base_url=f"http://127.0.0.1:{closed_port()}",
        transport=backend,
        max_retries=1,
        hooks=[events.append],
        sleep=lambda s: None,
    )
    with pytest.raises(dw.ConnectError) as connect:
        refused.request("GET", "/charts", params={"access_token": QUERY_SECRET})
    errors.append(connect.value)
    refused.close()
    return errors


@pytest.mark.parametrize("backend", BACKENDS)
def test_token_never_appears_after_a_faulty_session(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Logs at every level, exceptions (message, repr, history, request, response, cause
    chain), hook events and repr(client) hold neither the token nor a query token."""
    events: list[Event] = []
    caplog.set_level(logging.DEBUG)  # every logger, every level
    errors = faulty_session(backend, events)

    kinds = {type(e).__name__ for e in errors}
    assert {"ServerError", "ReadTimeout", "ReadError", "UnauthorizedError", "ConnectError"} <= kinds
    assert len(caplog.records) > 20 and len(events) > 20  # the session really was observed
    library = {"requests": "urllib3.connectionpool", "httpx": "httpx", "urllib3": "urllib3"}
    assert any(r.name.startswith(library[backend]) for r in caplog.records)

    # The fake server's own log (datawrapper.testing) is the other side of the wire.
    records = [r for r in caplog.records if not r.name.startswith("datawrapper.testing")]
    texts: list[str] = []
    for record in records:
        texts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            texts.extend(exception_texts(record.exc_info[1]))
    for error in errors:
        texts.extend(exception_texts(error))
    texts.extend(repr(event) for event in events)
    client = dw.Datawrapper(TOKEN, base_url="https://api.example.test", transport=backend)
    texts.append(repr(client))
    texts.append(repr(client.transport))
    client.close()

    leaks = [t for t in texts if TOKEN in t or QUERY_SECRET in t]
    assert leaks == []
    # the query tokens were there to be redacted, not simply absent
    assert any("access_token=" in e.url and "REDACTED" in e.url for e in events)


def test_a_token_echoed_in_an_error_body_is_scrubbed_from_the_exception() -> None:
    """A server error message that repeats the token shows [REDACTED] instead."""
    events: list[Event] = []
    errors = faulty_session("urllib3", events)
    server_errors = [e for e in errors if isinstance(e, dw.ServerError)]
    assert server_errors
    assert all("bad token [REDACTED]" in str(e) for e in server_errors)
    assert all("[REDACTED]" in e.error_message for e in server_errors)


def test_authorization_is_redacted_in_headers_and_requests() -> None:
    """repr of Headers and Request shows Authorization as [REDACTED]."""
    headers = dw.Headers({"Authorization": f"Bearer {TOKEN}", "X-Api-Key": "k3y-value-123"})
    request = dw.Request("GET", "https://api.example.test/v3/charts", headers)
    assert TOKEN not in repr(headers) + repr(request)
    assert "k3y-value-123" not in repr(headers)
    assert repr(headers).count("[REDACTED]") == 2


# --------------------------------------------------------------------------- redirects


def redirect_app(location: str) -> Any:
    """An app answering every request with a 307 to ``location``."""

    def app(request: dw.Request) -> dw.Response:
        return dw.Response(307, dw.Headers({"Location": location}))

    return app


@pytest.mark.parametrize("backend", BACKENDS)
def test_redirect_to_another_port_drops_authorization(backend: str) -> None:
    """A 307 to another server (another port) reaches it without Authorization, body kept."""
    with FakeServer(echo_app) as other:
        with FakeServer(redirect_app(f"{other.url}/landing")) as origin:
            client = dw.Datawrapper(TOKEN, base_url=origin.url, transport=backend)
            response = client.request("POST", "/charts", json={"title": "t"})
            client.close()
            origin.wait_for_idle(2)
        other.wait_for_idle(2)
    assert response.status_code == 200
    (first,) = origin.received
    (landed,) = other.received
    assert first.header("Authorization") == f"Bearer {TOKEN}"
    assert landed.header("Authorization") is None
    assert landed.method == "POST" and landed.body == b'{"title": "t"}'


@pytest.mark.parametrize("backend", BACKENDS)
def test_redirect_to_another_host_name_drops_authorization(backend: str) -> None:
    """127.0.0.1 -> localhost on the same port is another origin: no Authorization."""
    state = {"n": 0}
    holder: dict[str, FakeServer] = {}

    def app(request: dw.Request) -> dw.Response:
        state["n"] += 1
        if state["n"] == 1:
            location = f"http://localhost:{holder['server'].port}/v3/landing"
            return dw.Response(302, dw.Headers({"Location": location}))
        return echo_app(request)

    with FakeServer(app) as server:
        holder["server"] = server
        client = dw.Datawrapper(TOKEN, base_url=server.url, transport=backend)
        client.request("GET", "/charts")
        client.close()
        server.wait_for_idle(2)
    first, landed = server.received
    assert first.header("Authorization") == f"Bearer {TOKEN}"
    assert landed.header("Host", "").startswith("localhost")
    assert landed.header("Authorization") is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_redirect_within_the_same_origin_keeps_authorization(backend: str) -> None:
    """A same-origin redirect keeps the token (the control for the tests above)."""
    state = {"n": 0}

    def app(request: dw.Request) -> dw.Response:
        state["n"] += 1
        if state["n"] == 1:
            return dw.Response(301, dw.Headers({"Location": "/v3/landing"}))
        return echo_app(request)

    with FakeServer(app) as server:
        client = dw.Datawrapper(TOKEN, base_url=server.url, transport=backend)
        client.request("GET", "/charts")
        client.close()
        server.wait_for_idle(2)
    assert [r.header("Authorization") for r in server.received] == [f"Bearer {TOKEN}"] * 2


# --------------------------------------------------------------------------- TLS


@pytest.fixture
def tls_server() -> Iterator[FakeServer]:
    """A TLS FakeServer whose certificate no default trust store accepts."""
    with FakeServer(tls=True) as server:
        yield server


@pytest.mark.parametrize("backend", BACKENDS)
def test_tls_is_verified_by_default_even_with_empty_ca_env_vars(
    backend: str, tls_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An untrusted certificate fails with TLSError, also when CA variables are set empty."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    client = dw.Datawrapper(TOKEN, base_url=tls_server.url, transport=backend, max_retries=0)
    with pytest.raises(dw.TLSError):
        client.request("GET", "/charts")
    client.close()
    trusted = dw.Datawrapper(
        TOKEN, base_url=tls_server.url, transport=backend, verify=tls_server.ca_path
    )
    assert trusted.request("GET", "/charts").status_code == 200
    trusted.close()
    assert len(tls_server.received) == 1  # the unverified attempt never sent the request


def test_verify_false_logs_one_warning_on_the_transport_logger(
    tls_server: FakeServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """verify=False works but logs one WARNING on datawrapper.transport, however many clients."""
    monkeypatch.setattr(transport_base, "_insecure_warned", False)
    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        for backend in BACKENDS * 2:
            client = dw.Datawrapper(TOKEN, base_url=tls_server.url, transport=backend, verify=False)
            assert client.request("GET", "/charts").status_code == 200
            client.close()
    records = [r for r in caplog.records if r.name == "datawrapper.transport"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "verification is disabled" in records[0].getMessage()
