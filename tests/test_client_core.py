"""Tests of the client core: configuration, token handling, transport selection, redirects."""

from __future__ import annotations

import sys

import pytest

import datawrapper as dw
from datawrapper import MockTransport, Request, Response
from datawrapper.transport import create_transport


def ok(request: Request) -> Response:
    return Response(200, {"Content-Type": "application/json"}, b'{"id": "abcde"}')


def test_seed_example_runs_as_written() -> None:
    """The design note's example constructs a client with those settings."""
    client = dw.Datawrapper(
        max_retries=5,
        backoff_factor=2.0,
        retry_on=[429, 500, 502, 503, 504],
        timeout=dw.Timeout(connect=5, read=30, write=60),
    )
    assert client.retry.max_retries == 5
    assert client.retry.backoff_factor == 2.0
    assert client.retry.retry_on == frozenset({429, 500, 502, 503, 504})
    assert client.timeout.write == 60.0
    client.close()


def test_shorthands_override_policy_fields() -> None:
    """max_retries= and friends override the fields of retry=."""
    client = dw.Datawrapper("t", retry=dw.RetryPolicy(max_retries=1, jitter=0.1), max_retries=7)
    assert client.retry.max_retries == 7
    assert client.retry.jitter == 0.1


def test_token_read_from_environment_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """DATAWRAPPER_ACCESS_TOKEN is read when the client is built, not at import."""
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", "env-token-123")
    transport = MockTransport(ok)
    client = dw.Datawrapper(transport=transport)
    monkeypatch.delenv("DATAWRAPPER_ACCESS_TOKEN")
    client.get_chart("abcde")
    assert transport.requests[0].headers["Authorization"] == "Bearer env-token-123"


def test_missing_token_fails_before_any_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call without a token raises MissingTokenError and sends nothing."""
    monkeypatch.delenv("DATAWRAPPER_ACCESS_TOKEN", raising=False)
    transport = MockTransport(ok)
    client = dw.Datawrapper(transport=transport)
    with pytest.raises(dw.MissingTokenError, match="DATAWRAPPER_ACCESS_TOKEN"):
        client.get_chart("abcde")
    assert transport.requests == []


def test_base_url_from_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """base_url= wins over DATAWRAPPER_BASE_URL, which wins over the default."""
    assert dw.Datawrapper("t").base_url == "https://api.datawrapper.de"
    monkeypatch.setenv("DATAWRAPPER_BASE_URL", "http://127.0.0.1:9/")
    assert dw.Datawrapper("t").base_url == "http://127.0.0.1:9"
    assert dw.Datawrapper("t", base_url="https://x.test").base_url == "https://x.test"
    with pytest.raises(dw.InvalidRequestError, match="base_url"):
        dw.Datawrapper("t", base_url="api.datawrapper.de")


def test_base_url_with_v3_is_not_doubled() -> None:
    """A base URL that already ends in /v3 gets no second /v3."""
    transport = MockTransport(ok)
    dw.Datawrapper("t", base_url="https://x.test/v3", transport=transport).get_chart("abcde")
    assert transport.requests[0].url == "https://x.test/v3/charts/abcde"


def test_token_never_in_repr() -> None:
    """repr(client) says whether a token is set but never shows it."""
    text = repr(dw.Datawrapper("super-secret-token-42"))
    assert "super-secret-token-42" not in text
    assert "token=set" in text


@pytest.mark.parametrize("name", ["requests", "httpx", "urllib3"])
def test_transport_selected_by_name(name: str) -> None:
    """Each backend name builds the matching transport class."""
    with dw.Datawrapper("t", transport=name) as client:
        assert client.backend == name
        assert type(client.transport).__name__.lower().startswith(name)


def test_unknown_transport_lists_valid_names() -> None:
    """An unknown backend name raises ValueError listing the valid ones."""
    with pytest.raises(ValueError, match="'requests', 'httpx', 'urllib3'"):
        dw.Datawrapper("t", transport="curl")


def test_missing_optional_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without httpx installed, asking for it names the extra to install."""
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delitem(sys.modules, "datawrapper.transport._httpx", raising=False)
    with pytest.raises(ImportError, match=r"datawrapper\[httpx\]"):
        create_transport("httpx")


def test_object_transport_must_have_send_and_close() -> None:
    """A transport object without send/close is refused with TypeError."""
    with pytest.raises(TypeError, match="send"):
        dw.Datawrapper("t", transport=object())  # type: ignore[arg-type]


def test_transport_close_is_idempotent_and_context_managed() -> None:
    """close() may be called twice; a closed transport refuses to send."""
    transport = create_transport("urllib3")
    with transport as t:  # type: ignore[attr-defined]
        assert t is transport
    transport.close()
    with pytest.raises(RuntimeError, match="closed"):
        transport.send(Request("GET", "http://127.0.0.1:9/"), timeout=dw.Timeout(1))


def test_invalid_chart_id_fails_before_traffic() -> None:
    """A chart id that cannot be valid raises InvalidRequestError and sends nothing."""
    transport = MockTransport(ok)
    client = dw.Datawrapper("t", transport=transport)
    for bad in ["abc", "abcdef", "ab-de", 12345]:
        with pytest.raises(dw.InvalidRequestError, match="chart id"):
            client.get_chart(bad)  # type: ignore[arg-type]
    assert transport.requests == []


def test_redirect_to_other_host_drops_authorization() -> None:
    """Following a redirect to another host never carries the Authorization header."""

    def handler(request: Request) -> Response:
        if request.host == "api.example.test":
            return Response(302, {"Location": "https://cdn.example.test/file"})
        return Response(200, {"Content-Type": "application/json"}, b"{}")

    transport = MockTransport(handler)
    client = dw.Datawrapper("tok-abcdef", base_url="https://api.example.test", transport=transport)
    client.request("GET", "/charts")
    assert "Authorization" in transport.requests[0].headers
    assert transport.requests[1].url == "https://cdn.example.test/file"
    assert "Authorization" not in transport.requests[1].headers


def test_redirect_same_host_keeps_authorization_and_is_bounded() -> None:
    """A same-origin redirect keeps the token; a redirect loop stops with an error."""

    def handler(request: Request) -> Response:
        return Response(301, {"Location": "/v3/loop"})

    transport = MockTransport(handler)
    client = dw.Datawrapper("tok-abcdef", base_url="https://api.example.test", transport=transport)
    with pytest.raises(dw.FailedRequestError, match="redirects"):
        client.request("GET", "/charts")
    assert len(transport.requests) == client.max_redirects + 1
    assert all("Authorization" in r.headers for r in transport.requests)


def test_post_redirect_is_not_followed() -> None:
    """A 302 answer to a POST is an error, not a silent re-send as GET."""
    transport = MockTransport(lambda r: Response(302, {"Location": "/elsewhere"}))
    client = dw.Datawrapper("tok-abcdef", base_url="https://api.example.test", transport=transport)
    with pytest.raises(dw.FailedRequestError, match="not followed"):
        client.request("POST", "/charts", json={})
    assert len(transport.requests) == 1


def test_verify_false_logs_a_warning_once(caplog: pytest.LogCaptureFixture) -> None:
    """Switching TLS verification off is never silent: a warning is logged."""
    import datawrapper.transport._base as base

    base._insecure_warned = False
    create_transport("urllib3", verify=False).close()
    create_transport("requests", verify=False).close()
    warnings = [r for r in caplog.records if "verification is disabled" in r.getMessage()]
    assert len(warnings) == 1


def test_verify_path_must_exist() -> None:
    """A CA bundle path that does not exist is refused with a clear message."""
    with pytest.raises(ValueError, match="no such CA bundle"):
        create_transport("requests", verify="/nonexistent/ca.pem")
