"""Conformance: what a backend puts on the wire is what was asked, and what comes back is what
the server sent, byte for byte, on every backend.

Generated requests use what Datawrapper needs and more: any token method, percent-encoded
paths and queries (as the client builds them), any token header names with visible-ASCII
values, repeated fields, and binary bodies from empty to a few hundred KiB.
"""

from __future__ import annotations

import contextlib
import random
import string
from urllib.parse import quote, unquote, urlencode

import pytest
from _conformance import (
    ALLOWED_EXTRA_REQUEST_HEADERS,
    BACKENDS,
    WITH_MOCK,
    reset_server,
    settle,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from datawrapper._exceptions import InvalidRequestError
from datawrapper.testing import FakeServer, ReceivedRequest, echo_app
from datawrapper.transport import (
    Headers,
    MockTransport,
    Request,
    Response,
    Timeout,
    Transport,
    create_transport,
)

TIMEOUT = Timeout(5)
TCHAR = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
#: Fields a generated request must not set: framing and hop-by-hop fields the backends own,
#: and the echo app's control fields.
RESERVED_REQUEST_FIELDS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
    }
)
#: Fields a generated response must not set: framing, decoding, and the echo app's own.
RESERVED_RESPONSE_FIELDS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "trailer",
        "upgrade",
        "content-encoding",
        "content-type",
        "x-echo-method",
        "x-echo-path",
    }
)
ECHO_RESPONSE_FIELDS = frozenset({"content-type", "x-echo-method", "x-echo-path", "content-length"})
PCHAR_SAFE = "!$&'()*+,;=:@"  # RFC 3986 sub-delims, ":" and "@": legal unescaped in a path


def _new_transport(backend: str) -> Transport:
    if backend == "mock":
        return MockTransport(echo_app)
    return create_transport(backend)


# --------------------------------------------------------------------------- strategies

methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) | st.text(
    st.sampled_from(string.ascii_uppercase), min_size=3, max_size=10
).filter(lambda m: m not in ("HEAD", "CONNECT"))

segments = (
    st.text(st.characters(codec="utf-8"), max_size=12)
    .map(lambda text: quote(text, safe=PCHAR_SAFE))
    .filter(lambda seg: seg not in (".", ".."))
)
paths = st.lists(segments, min_size=1, max_size=5).map(lambda segs: "/" + "/".join(segs))
query_text = st.text(st.characters(codec="utf-8"), max_size=10)
queries = st.one_of(
    st.just(""),
    st.lists(st.tuples(query_text, query_text), min_size=1, max_size=4).map(urlencode),
    query_text.map(lambda q: quote(q, safe=PCHAR_SAFE + "/?")),
)

field_names = st.text(st.sampled_from(TCHAR), min_size=1, max_size=24)
request_field_names = field_names.filter(
    lambda n: (
        n.lower() not in RESERVED_REQUEST_FIELDS
        and not n.lower().startswith(("x-respond-", "proxy-"))
    )
)
#: Visible ASCII with inner spaces and tabs; no leading or trailing whitespace (that is OWS,
#: not part of the value in HTTP).
field_values = st.text(
    st.sampled_from([chr(c) for c in range(0x21, 0x7F)] + [" ", "\t"]), max_size=40
).map(lambda v: v.strip(" \t"))


def _random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(_random_bytes, st.integers(1_000, 300_000), st.integers(0, 2**32)),
)


def _joined(pairs: tuple[tuple[str, str], ...] | Headers, name: str) -> str | None:
    headers = pairs if isinstance(pairs, Headers) else Headers(pairs)
    return headers.get(name)


def _as_list(value: str | None) -> list[str]:
    parts = (value or "").split(",")
    return [part.strip(" \t") for part in parts if part.strip(" \t")]


def _only_request(server: FakeServer, before: int) -> ReceivedRequest:
    received = server.received[before:]
    assert len(received) == 1, f"expected one request at the server, got {len(received)}"
    return received[0]


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    method=methods,
    path=paths,
    query=queries,
    headers=st.lists(st.tuples(request_field_names, field_values), max_size=8),
    body=bodies,
)
def test_server_receives_what_was_sent(
    server: FakeServer,
    backend: str,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    """Method, target, every header (same value, repeated fields joined) and body bytes
    arrive unchanged; the only extra fields are framing ones from the documented allow-list."""
    reset_server(server)
    target = path + (f"?{query}" if query else "")
    sent = Headers(headers)
    before = len(server.received)
    with contextlib.closing(create_transport(backend)) as transport:
        response = transport.send(Request(method, server.url + target, sent, body), timeout=TIMEOUT)
    settle(server)
    got = _only_request(server, before)

    assert response.status_code == 200
    assert got.method == method
    assert got.target == target
    assert got.body == body
    assert got.http_version == "HTTP/1.1"
    arrived = Headers(got.headers)
    for name in sent:
        values = sent.get_list(name)
        if len(values) == 1:
            assert _joined(got.headers, name) == values[0], f"header {name!r} changed"
        else:
            # requests and urllib3 send a repeated field as one comma-joined line, httpx as
            # several: equal as RFC 9110 lists (empty elements and OWS do not count).
            assert _as_list(_joined(got.headers, name)) == _as_list(", ".join(values))
    extra = {n.lower() for n in arrived} - {n.lower() for n in sent}
    assert extra <= ALLOWED_EXTRA_REQUEST_HEADERS, f"unexpected fields added: {sorted(extra)}"
    assert arrived["host"] == f"127.0.0.1:{server.port}"
    assert "transfer-encoding" not in arrived, "a whole body must be sent with a Content-Length"
    if body:
        assert arrived.get("content-length") == str(len(body))
    else:
        assert arrived.get("content-length", "0") == "0"


@pytest.mark.parametrize("backend", WITH_MOCK)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
    status=st.integers(200, 599),
    headers=st.lists(
        st.tuples(
            field_names.filter(lambda n: n.lower() not in RESERVED_RESPONSE_FIELDS),
            field_values,
        ),
        max_size=6,
    ),
    body=bodies,
)
def test_response_comes_back_unchanged(
    server: FakeServer,
    backend: str,
    method: str,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    """Status, every response header (same value) and the body bytes come back unchanged;
    over a socket HEAD, 204 and 304 come back without a body."""
    reset_server(server)
    controls = [("X-Respond-Status", str(status))]
    controls += [(f"X-Respond-Header-{name}", value) for name, value in headers]
    with contextlib.closing(_new_transport(backend)) as transport:
        response = transport.send(
            Request(method, server.url + "/echo?x=1", Headers(controls), body), timeout=TIMEOUT
        )
    settle(server)

    expected = Headers(headers)
    assert response.status_code == status
    assert response.http_version == "HTTP/1.1"
    for name in expected:
        values = expected.get_list(name)
        if len(values) == 1:
            assert response.headers.get(name) == values[0], f"header {name!r} changed"
        else:  # repeated X-Respond-Header-* request fields: see test_server_receives_...
            assert _as_list(response.headers.get(name)) == _as_list(", ".join(values))
    extra = {n.lower() for n in response.headers} - {n.lower() for n in expected}
    assert extra <= ECHO_RESPONSE_FIELDS, f"unexpected response fields: {sorted(extra)}"
    assert response.headers["x-echo-method"] == method
    assert response.headers["x-echo-path"] == "/echo?x=1"
    # Over a socket HEAD, 204 and 304 carry no body. MockTransport returns what the app
    # returns (echo_app echoes the body even then): a documented difference of the mock.
    no_body = backend != "mock" and (method == "HEAD" or status in (204, 304))
    assert response.content == (b"" if no_body else body)
    assert isinstance(response, Response)
    assert response.request is not None
    assert response.request.method == method


#: Characters a user might put in a raw URL: printable ASCII except the delimiters of query,
#: fragment and percent-escapes, plus some non-ASCII letters.
raw_url_chars = st.sampled_from(
    [c for c in string.printable if c not in "?#%\r\n\t\x0b\x0c"] + ["é", "ß", "€", "日"]
)


@given(
    path=st.lists(
        st.text(raw_url_chars.filter(lambda c: c != "/"), min_size=1, max_size=8).filter(
            lambda s: s.strip(".") != "" and s.strip() == s
        ),
        min_size=1,
        max_size=3,
    ).map(lambda segs: "/" + "/".join(segs)),
    query=st.text(raw_url_chars, max_size=12).filter(lambda q: q.strip() == q),
)
def test_raw_url_means_the_same_on_every_backend(server: FakeServer, path: str, query: str) -> None:
    """A URL with characters that need escaping may be escaped differently per backend
    (see docs/backends.md), but the server decodes the same path and query from each."""
    reset_server(server)
    url = server.url + path + (f"?{query}" if query else "")
    decoded: dict[str, tuple[str, str]] = {}
    for backend in BACKENDS:
        before = len(server.received)
        with contextlib.closing(create_transport(backend)) as transport:
            transport.send(Request("GET", url), timeout=TIMEOUT)
        got = _only_request(server, before)
        decoded[backend] = (unquote(got.path), unquote(got.query))
    settle(server)
    assert set(decoded.values()) == {(path, query)}, decoded


#: Any text a caller might put in a header: Headers() itself rejects only line breaks and
#: separators in names; the transports must then agree on what is sendable.
any_field_text = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n"),
    max_size=12,
)


@given(name=any_field_text, value=any_field_text)
def test_header_fields_are_accepted_or_refused_alike(
    server: FakeServer, name: str, value: str
) -> None:
    """Every backend either sends a header field unchanged or refuses it with
    InvalidRequestError before sending anything; never one way on one backend and another
    way on the next, and never a raw library exception."""
    try:
        headers = Headers([(name, value)])
    except ValueError:
        assume(False)
        return
    reset_server(server)
    outcomes: dict[str, str] = {}
    for backend in BACKENDS:
        before = len(server.received)
        refused: InvalidRequestError | None = None
        with contextlib.closing(create_transport(backend)) as transport:
            try:
                response = transport.send(
                    Request("GET", server.url + "/h", headers), timeout=TIMEOUT
                )
            except InvalidRequestError as exc:
                refused = exc
        if refused is not None:
            assert "header" in str(refused)
            assert len(server.received) == before, "a refused request reached the server"
            outcomes[backend] = "refused"
            continue
        assert response.status_code == 200
        got = _only_request(server, before)
        assert _joined(got.headers, name) == value
        outcomes[backend] = "sent"
    settle(server)
    assert len(set(outcomes.values())) == 1, outcomes


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_cookies_are_kept_between_requests(server: FakeServer, backend: str) -> None:
    """A Set-Cookie answer does not make any backend send a Cookie on the next request."""
    reset_server(server)
    before = len(server.received)
    with contextlib.closing(create_transport(backend)) as transport:
        first = transport.send(
            Request(
                "GET",
                server.url + "/c",
                Headers([("X-Respond-Header-Set-Cookie", "session=abc; Path=/")]),
            ),
            timeout=TIMEOUT,
        )
        transport.send(Request("GET", server.url + "/c"), timeout=TIMEOUT)
    settle(server)
    assert first.headers["set-cookie"] == "session=abc; Path=/"
    second = server.received[before + 1]
    assert second.header("cookie") is None
