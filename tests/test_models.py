"""Tests of the transport value types: Headers, Request, Response."""

from __future__ import annotations

import pytest

from datawrapper import Headers, Request, Response


def test_headers_case_insensitive_and_ordered() -> None:
    """Lookups ignore case; iteration keeps the first spelling and order."""
    h = Headers([("Content-Type", "text/csv"), ("X-A", "1"), ("x-a", "2")])
    assert h["content-type"] == "text/csv"
    assert h["X-A"] == "1, 2"
    assert h.get_list("x-a") == ["1", "2"]
    assert list(h) == ["Content-Type", "X-A"]
    assert "CONTENT-TYPE" in h and "missing" not in h


def test_headers_merged_replaces_named_fields() -> None:
    """merged() replaces every field named in the other headers and keeps the rest."""
    h = Headers({"Accept": "*/*", "X-A": "1"}).merged({"x-a": "2"})
    assert h.raw() == (("Accept", "*/*"), ("x-a", "2"))


@pytest.mark.parametrize("bad", [("X-A", "a\r\nInjected: 1"), ("Bad Name", "v"), ("", "v")])
def test_headers_reject_injection_and_bad_names(bad: tuple[str, str]) -> None:
    """Line breaks in values and invalid names are refused with ValueError."""
    with pytest.raises(ValueError, match="header"):
        Headers([bad])


def test_headers_reject_non_strings() -> None:
    """Non-str values raise TypeError that says to convert them."""
    with pytest.raises(TypeError, match="str"):
        Headers({"X-N": 5})  # type: ignore[dict-item]


def test_headers_repr_redacts_authorization() -> None:
    """The repr of headers never shows an Authorization value."""
    text = repr(Headers({"Authorization": "Bearer s3cr3t-token-value"}))
    assert "s3cr3t" not in text and "REDACTED" in text


def test_request_normalises_method_and_validates_url() -> None:
    """Methods are upper-cased; URLs without scheme or host are refused."""
    assert Request("get", "https://example.org/x").method == "GET"
    with pytest.raises(ValueError, match="URL"):
        Request("GET", "example.org/x")
    with pytest.raises(ValueError, match="method"):
        Request("GE T", "https://example.org/")
    with pytest.raises(TypeError, match="bytes"):
        Request("POST", "https://example.org/", content="text")  # type: ignore[arg-type]


def test_request_repr_redacts_token_query() -> None:
    """A token in the query string does not appear in the request's repr."""
    text = repr(Request("GET", "https://example.org/x?access_token=abcdef123"))
    assert "abcdef123" not in text


def test_response_helpers() -> None:
    """Response decodes text with its charset, parses JSON and reports its media type."""
    r = Response(
        200, {"Content-Type": "application/json; charset=latin-1"}, '{"a": "é"}'.encode("latin-1")
    )
    assert r.content_type == "application/json"
    assert r.text == '{"a": "é"}'
    assert r.is_success and r.reason_phrase == "OK"
    with pytest.raises(ValueError, match="status"):
        Response(1000)
