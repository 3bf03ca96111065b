"""Property-based fuzzing of everything that parses untrusted or user input.

Each input either works or raises the documented exception with a clear message; nothing
else escapes. Example counts come from the hypothesis profile loaded in conftest.py.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote_plus

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import datawrapper as dw
from datawrapper._exceptions import error_for_response, parse_error_body
from datawrapper._redact import REDACTED, redact_text, redact_url, register_secret
from datawrapper.transport import (
    Headers,
    PoolConfig,
    Response,
    RetryPolicy,
    Timeout,
    parse_retry_after,
)

# Distinctive secrets (lower-case hex, like Datawrapper tokens), registered once for the process.
SECRETS = (
    "f00dfeedcafe1234beefdead5678abcd",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "deadc0dedeadc0de",
)
for _secret in SECRETS:
    register_secret(_secret)

# Anything a user might pass where a number of seconds or a count is expected.
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.binary(max_size=8),
    st.lists(st.integers(min_value=-1000, max_value=1000), max_size=4),
    st.frozensets(st.integers(min_value=0, max_value=1000), max_size=4),
    st.dictionaries(st.integers(min_value=0, max_value=999), st.none(), max_size=3),
)

NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(repr),
    st.from_regex(r"\A\s*[+-]?\d{0,30}(\.\d{0,10})?\s*\Z"),
)
HTTP_DATES = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(9999, 12, 31),
    timezones=st.just(timezone.utc),
).map(lambda d: format_datetime(d, usegmt=True))
RETRY_AFTER_TEXT = st.one_of(
    st.text(), NUMBER_TEXT, HTTP_DATES, st.text(alphabet="0123456789-+. eE,:GMTSunMon")
)
NOW = st.floats(min_value=0, max_value=4e9)


# --------------------------------------------------------------------------- Retry-After


@given(text=RETRY_AFTER_TEXT, name=st.sampled_from(["retry-after", "retry-after-ms"]), now=NOW)
def test_parse_retry_after_never_raises_and_is_a_finite_non_negative_wait(
    text: str, name: str, now: float
) -> None:
    """Any header value gives None or a finite number of seconds >= 0."""
    value = parse_retry_after({name: text}, now=now)
    assert value is None or (isinstance(value, float) and math.isfinite(value) and value >= 0)


@given(seconds=st.integers(min_value=-(10**9), max_value=10**9))
def test_parse_retry_after_integer_seconds_are_exact_and_negatives_mean_zero(seconds: int) -> None:
    """An integer Retry-After is that many seconds; a negative one is 0."""
    assert parse_retry_after({"retry-after": str(seconds)}) == max(float(seconds), 0.0)


@given(ms=st.integers(min_value=0, max_value=10**9))
def test_parse_retry_after_ms_is_milliseconds(ms: int) -> None:
    """retry-after-ms counts milliseconds and wins over Retry-After."""
    value = parse_retry_after({"retry-after-ms": str(ms), "retry-after": "999"})
    assert value == pytest.approx(ms / 1000)


@given(
    when=st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9000, 1, 1),
        timezones=st.just(timezone.utc),
    ),
    now=NOW,
)
def test_parse_retry_after_http_date_is_relative_to_now(when: datetime, now: float) -> None:
    """An HTTP-date is the seconds from ``now`` until it (whole seconds), or 0 when past."""
    value = parse_retry_after({"retry-after": format_datetime(when, usegmt=True)}, now=now)
    expected = max(when.replace(microsecond=0).timestamp() - now, 0.0)
    assert value == pytest.approx(expected, abs=1e-6)


# --------------------------------------------------------------------------- error bodies

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
BOOM_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "statusCode": JSON_VALUES,
        "error": JSON_VALUES,
        "message": st.one_of(JSON_VALUES, st.text(min_size=1990, max_size=2100)),
        "type": JSON_VALUES,
        "details": JSON_VALUES,
    },
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    BOOM_LIKE.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=50_000).map(lambda n: b"[" * n),
    st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    st.just(b"\xff\xfe{\x00}\x00"),
)


@given(body=BODIES, content_type=st.text(max_size=40))
def test_parse_error_body_returns_a_dict_of_known_fields_for_any_bytes(
    body: bytes, content_type: str
) -> None:
    """Any body gives a dict holding only Boom fields of the right types, strings bounded."""
    result = parse_error_body(body, content_type)
    assert isinstance(result, dict)
    assert set(result) <= {"statusCode", "error", "message", "type", "details"}
    for key in ("error", "message", "type"):
        if key in result:
            assert isinstance(result[key], str) and len(result[key]) <= 2000
    if "statusCode" in result:
        assert isinstance(result["statusCode"], int)


@given(
    status=st.integers(min_value=400, max_value=599),
    body=BODIES,
    content_type=st.sampled_from(["application/json", "text/html", "", "text/plain; charset=x"]),
    secret=st.sampled_from(SECRETS),
)
def test_status_errors_build_for_any_body_and_never_show_a_secret(
    status: int, body: bytes, content_type: str, secret: str
) -> None:
    """error_for_response works for any 4xx/5xx body; message and repr hide registered secrets."""
    headers = Headers({"Content-Type": content_type}) if content_type else Headers()
    echoed = body + b' {"message": "token ' + secret.encode() + b'"}'
    for content in (body, echoed):
        error = error_for_response(Response(status, headers, content))
        assert isinstance(error, dw.FailedRequestError)
        assert error.status_code == status
        assert secret not in str(error) and secret not in repr(error)
        assert isinstance(error.error, str)


# --------------------------------------------------------------------------- headers

HEADER_PART = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A[A-Za-z0-9-]{1,12}\Z"),
    st.binary(max_size=6),
    st.integers(),
    st.none(),
)


@given(pairs=st.lists(st.tuples(HEADER_PART, HEADER_PART), max_size=6))
def test_headers_accept_valid_pairs_or_raise_a_clear_error(pairs: list[tuple[Any, Any]]) -> None:
    """Headers(pairs) works (every value retrievable) or raises TypeError/ValueError saying why."""
    try:
        headers = Headers(pairs)
    except (TypeError, ValueError) as exc:
        error: Exception | None = exc
    else:
        error = None
    if error is not None:
        assert "header" in str(error)
        return
    for name, value in pairs:
        assert value in headers.get_list(name)
        assert name in headers
    assert len(headers) <= len(pairs)
    assert isinstance(repr(headers), str)


@given(mapping=st.dictionaries(HEADER_PART, HEADER_PART, max_size=5))
def test_headers_from_a_mapping_behave_like_pairs(mapping: dict[Any, Any]) -> None:
    """A mapping is accepted exactly when its items are, with the same error types."""
    try:
        expected: Headers | Exception = Headers(list(mapping.items()))
    except (TypeError, ValueError) as exc:
        expected = exc
    try:
        actual: Headers | Exception = Headers(mapping)
    except (TypeError, ValueError) as exc:
        actual = exc
    if isinstance(expected, Exception) or isinstance(actual, Exception):
        assert type(expected) is type(actual)
    else:
        assert actual == expected


# --------------------------------------------------------------------------- config objects


def check_config(build: Any, field: str) -> Any:
    """``build()`` if it works, else None after checking its ValueError names ``field``."""
    error: ValueError | None = None
    try:
        built = build()
    except ValueError as exc:
        built, error = None, exc
    if error is not None:
        assert field in str(error), f"{field!r} not named in {error}"
    return built


@given(value=ANY_VALUE, field=st.sampled_from(["connect", "read", "write", "pool"]))
def test_timeout_fields_work_or_raise_value_error_naming_the_field(value: Any, field: str) -> None:
    """Timeout(**{field: value}) is valid (finite, > 0) or a ValueError naming Timeout.<field>."""
    timeout = check_config(lambda: Timeout(**{field: value}), f"Timeout.{field}")
    if timeout is not None:
        assert 0 < getattr(timeout, field) < math.inf


@given(value=ANY_VALUE)
def test_timeout_positional_value_works_or_raises_value_error(value: Any) -> None:
    """Timeout(value) sets all four fields or raises a ValueError naming Timeout."""
    assume(not isinstance(value, Timeout))
    check_config(lambda: Timeout(value), "Timeout")


@given(
    value=ANY_VALUE,
    field=st.sampled_from(
        ["max_connections", "max_keepalive_connections", "keepalive_expiry", "block"]
    ),
)
def test_pool_config_fields_work_or_raise_value_error_naming_the_field(
    value: Any, field: str
) -> None:
    """PoolConfig(**{field: value}) is valid or a ValueError naming the field."""
    check_config(lambda: PoolConfig(**{field: value}), field)


@given(
    value=ANY_VALUE,
    field=st.sampled_from(
        [
            "max_retries",
            "retry_on",
            "backoff_factor",
            "backoff_max",
            "jitter",
            "respect_retry_after",
            "max_retry_after",
            "retry_non_idempotent",
            "retry_transport_errors",
            "deadline",
        ]
    ),
)
def test_retry_policy_fields_work_or_raise_value_error_naming_the_field(
    value: Any, field: str
) -> None:
    """RetryPolicy(**{field: value}) is valid or a ValueError naming RetryPolicy.<field>."""
    policy = check_config(lambda: RetryPolicy(**{field: value}), f"RetryPolicy.{field}")
    if policy is None:
        return
    for retry in range(1, 5):
        wait = policy.backoff(retry, 0.5)
        assert 0 <= wait <= policy.backoff_max


# --------------------------------------------------------------------------- redaction

URL_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@st.composite
def urls_hiding_a_secret(draw: st.DrawFn) -> tuple[str, str]:
    """A URL-ish string with a registered secret somewhere in it, maybe percent-encoded."""
    secret = draw(st.sampled_from(SECRETS))
    shown = secret
    if draw(st.booleans()):
        cut = draw(st.integers(min_value=0, max_value=len(secret) - 1))
        shown = secret[:cut] + f"%{ord(secret[cut]):02X}" + secret[cut + 1 :]
    template = draw(
        st.sampled_from(
            [
                "https://api.example.test/v3/charts?q={s}",
                "https://api.example.test/v3/charts?access_token={s}&x=1",
                "https://user:{s}@api.example.test/",
                "https://{s}@api.example.test/",
                "https://api.example.test/v3/{s}/x",
                "https://api.example.test/#access_token={s}",
                "{s}",
                "http://[{s}/",
                "https://api.example.test/?a={s}%",
            ]
        )
    )
    prefix, suffix = draw(URL_TEXT), draw(URL_TEXT)
    return prefix + template.format(s=shown) + suffix, secret


@given(case=urls_hiding_a_secret())
def test_redact_url_never_shows_a_registered_secret(case: tuple[str, str]) -> None:
    """redact_url never raises and its result never contains a registered secret, even decoded."""
    url, secret = case
    result = redact_url(url)
    assert isinstance(result, str)
    assert secret not in result
    assert secret not in unquote_plus(result)


@given(text=URL_TEXT)
def test_redact_url_accepts_any_text(text: str) -> None:
    """Any text (also not a URL at all) is returned as text, never an exception."""
    assert isinstance(redact_url(text), str)


@given(
    name=st.sampled_from(["access_token", "token", "api_key", "apiKey", "X-Amz-Signature", "sig"]),
    value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=6, max_size=30),
    other=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
)
def test_token_like_query_parameters_are_redacted(name: str, value: str, other: str) -> None:
    """Token-like parameters lose their value in URLs and in free text; others keep theirs."""
    assume(value != other and "xyz" not in value)
    url = f"https://api.example.test/v3/charts?page={other}&{name}={value}"
    redacted = redact_url(url)
    assert value not in redacted.split(f"page={other}", 1)[1]
    assert f"page={other}" in redacted
    assert REDACTED in unquote_plus(redacted)
    text = redact_text(f"GET {url} failed: connection refused")
    assert f"{name}={value}" not in text


@given(secret=st.sampled_from(SECRETS), text=URL_TEXT)
def test_exceptions_never_show_a_registered_secret(secret: str, text: str) -> None:
    """Any DatawrapperError built from text with a secret in it hides the secret."""
    for message in (text + secret, secret + text, f"Bearer {text}{secret}"):
        for exc in (dw.DatawrapperError(message), dw.ReadTimeout(message)):
            assert secret not in str(exc) and secret not in repr(exc)
