"""Conformance: every exception class a backend library defines is mapped to ours.

For each backend, every exception class of the libraries beneath it is enumerated from the
library itself (so a new class in a new release is picked up): ``requests.exceptions``,
``httpx``, ``urllib3.exceptions``, ``http.client`` and the socket/ssl errors. Each is
instantiated and

- passed to the backend's map function (``map_requests_error`` / ``map_httpx_error`` /
  ``map_urllib3_error``), which must return a TransportError or InvalidRequestError of ours;
- raised inside the backend's mapping context (the one place its ``send`` catches library
  errors), out of which only our exception may come: never the raw library class.

Analogous failures of the three libraries must also map to the same class of ours. The "in
practice" half, where the faults are real, is test_conformance_faults.py (every call there
may only raise our exceptions).
"""

from __future__ import annotations

import http.client
import inspect
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any

import httpx
import pytest
import requests.exceptions as rex
import urllib3.exceptions as u3

import datawrapper._exceptions as ours
from datawrapper._exceptions import DatawrapperError, InvalidRequestError, TransportError
from datawrapper.transport import Request
from datawrapper.transport import _httpx as httpx_backend
from datawrapper.transport import _requests as requests_backend
from datawrapper.transport import _urllib3 as urllib3_backend

REQUEST = Request("GET", "http://example.invalid/v3/charts")

#: Classes a backend's send() cannot raise, with the reason; everything else must be caught.
NOT_RAISED_BY_SEND: dict[type[BaseException], str] = {
    httpx.CookieConflict: "raised only by httpx.Cookies.get(), which the backend never calls",
    u3.ProxySchemeUnsupported: "raised only for an HTTPS proxy; the backends never use a proxy",
}


def _defined_in(module: ModuleType, *, prefix: str | None = None) -> list[type[BaseException]]:
    """The exception classes (not warnings) that ``module`` defines, by name."""
    prefix = prefix or module.__name__
    found = {
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and not issubclass(obj, Warning)
        and obj.__module__.startswith(prefix)
    }
    return sorted(found, key=lambda cls: cls.__name__)


def _subclasses(root: type[BaseException]) -> Iterator[type[BaseException]]:
    yield root
    for sub in root.__subclasses__():
        yield from _subclasses(sub)


SOCKET_ERRORS: list[type[BaseException]] = sorted(
    {
        OSError,
        ConnectionError,
        BrokenPipeError,
        ConnectionAbortedError,
        ConnectionRefusedError,
        ConnectionResetError,
        TimeoutError,
        socket.gaierror,
        socket.herror,
        *(cls for cls in _subclasses(ssl.SSLError) if cls.__module__ == "ssl"),
    },
    key=lambda cls: cls.__name__,
)
REQUESTS_ERRORS = _defined_in(rex)
HTTPX_ERRORS = _defined_in(httpx)
URLLIB3_ERRORS = _defined_in(u3)
HTTP_CLIENT_ERRORS = [
    cls for cls in _defined_in(http.client) if issubclass(cls, http.client.HTTPException)
]

MapFunction = Callable[[BaseException, Request], DatawrapperError]
MapContext = Callable[[Request], AbstractContextManager[None]]

#: backend -> (map function, mapping context, every library class beneath it)
BACKEND_ERRORS: dict[str, tuple[MapFunction, MapContext, list[type[BaseException]]]] = {
    "requests": (
        requests_backend.map_requests_error,
        requests_backend._map_exceptions,
        # requests re-raises some urllib3 errors unwrapped (HTTPAdapter.send: "else: raise"),
        # and the sockets and http.client lie beneath urllib3.
        REQUESTS_ERRORS + URLLIB3_ERRORS + HTTP_CLIENT_ERRORS + SOCKET_ERRORS,
    ),
    "httpx": (
        httpx_backend.map_httpx_error,
        httpx_backend._map_exceptions,
        HTTPX_ERRORS + SOCKET_ERRORS,
    ),
    "urllib3": (
        urllib3_backend.map_urllib3_error,
        urllib3_backend._map_exceptions,
        URLLIB3_ERRORS + HTTP_CLIENT_ERRORS + SOCKET_ERRORS,
    ),
}


class _FakeRawResponse:
    """Just enough of urllib3's HTTPResponse for InvalidChunkLength's message."""

    length_remaining = 3

    def tell(self) -> int:
        return 0


def build(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls``, trying the constructor shapes the libraries use."""
    if cls is httpx.HTTPStatusError:
        request = httpx.Request("GET", "http://example.invalid/")
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    if cls is u3.MaxRetryError:  # its reason is always an exception
        return cls(None, "http://example.invalid/", OSError("boom"))  # type: ignore[arg-type]
    candidates: list[tuple[Any, ...]] = [
        ("boom",),
        (),
        (None, "http://example.invalid/", "boom"),
        (None, "boom"),
        ("boom", OSError("boom")),
        ("boom", "doc", 0),
        ([], "boom"),
        (1, 2),
        (_FakeRawResponse(), b"xyz"),
        ("example.invalid", None, socket.gaierror("boom")),
    ]
    for args in candidates:
        try:
            exc = cls(*args)
            str(exc)
            repr(exc)
        except Exception:  # the next constructor shape, then
            continue
        return exc
    raise AssertionError(f"the suite cannot instantiate {cls.__module__}.{cls.__name__}")


def _cases() -> list[Any]:
    cases = []
    for backend, (_, _, classes) in BACKEND_ERRORS.items():
        for cls in classes:
            cases.append(
                pytest.param(backend, cls, id=f"{backend}-{cls.__module__}.{cls.__name__}")
            )
    return cases


def test_the_libraries_define_what_the_suite_expects() -> None:
    """The enumeration found the classes (guards against an import that silently finds none)."""
    names = {cls.__name__ for _, _, classes in BACKEND_ERRORS.values() for cls in classes}
    assert {"ConnectTimeout", "ReadTimeoutError", "RemoteProtocolError", "IncompleteRead"} <= names
    assert len(REQUESTS_ERRORS) >= 20
    assert len(HTTPX_ERRORS) >= 25
    assert len(URLLIB3_ERRORS) >= 30
    assert len(HTTP_CLIENT_ERRORS) >= 10


@pytest.mark.parametrize(("backend", "cls"), _cases())
def test_every_library_exception_is_mapped(backend: str, cls: type[BaseException]) -> None:
    """The backend's map function turns the library class into one of our TransportError or
    InvalidRequestError classes, and its mapping context never lets the raw class out."""
    map_error, map_context, _ = BACKEND_ERRORS[backend]
    exc = build(cls)
    mapped = map_error(exc, REQUEST)
    assert isinstance(mapped, (TransportError, InvalidRequestError))
    assert type(mapped).__module__ == ours.__name__
    if isinstance(mapped, TransportError):
        assert mapped.request is REQUEST
    if cls in NOT_RAISED_BY_SEND:
        return
    with pytest.raises(DatawrapperError) as info, map_context(REQUEST):
        raise exc
    assert isinstance(info.value, (TransportError, InvalidRequestError))
    assert type(info.value) is type(mapped)


def _chain(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


# The same failure as each library reports it: (requests, httpx, urllib3) -> our class.
ANALOGUES: list[tuple[str, BaseException, BaseException, BaseException, type[TransportError]]] = [
    (
        "connection refused",
        rex.ConnectionError(u3.NewConnectionError(None, "refused")),  # type: ignore[arg-type]
        httpx.ConnectError("[Errno 111] Connection refused"),
        u3.MaxRetryError(None, "/", u3.NewConnectionError(None, "refused")),  # type: ignore[arg-type]
        ours.ConnectError,
    ),
    (
        "connect timeout",
        rex.ConnectTimeout(u3.ConnectTimeoutError("timed out")),
        httpx.ConnectTimeout("timed out"),
        u3.ConnectTimeoutError("timed out"),
        ours.ConnectTimeout,
    ),
    (
        "read timeout",
        rex.ReadTimeout(u3.ReadTimeoutError(None, "/", "Read timed out.")),  # type: ignore[arg-type]
        httpx.ReadTimeout("timed out"),
        u3.ReadTimeoutError(None, "/", "Read timed out."),  # type: ignore[arg-type]
        ours.ReadTimeout,
    ),
    (
        "certificate rejected",
        rex.SSLError(u3.SSLError(ssl.SSLCertVerificationError("unknown CA"))),
        _chain(httpx.ConnectError("unknown CA"), ssl.SSLCertVerificationError("unknown CA")),
        u3.SSLError(ssl.SSLCertVerificationError("unknown CA")),
        ours.TLSError,
    ),
    (
        "body cut short",
        rex.ChunkedEncodingError(u3.ProtocolError("Connection broken", u3.IncompleteRead(5, 6))),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        u3.ProtocolError("Connection broken", u3.IncompleteRead(5, 6)),
        ours.RemoteProtocolError,
    ),
    (
        "closed without a response",
        rex.ConnectionError(
            u3.ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed"))
        ),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        u3.ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed")),
        ours.RemoteProtocolError,
    ),
    (
        "connection reset",
        rex.ConnectionError(
            u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
        ),
        _chain(httpx.ReadError("[Errno 104] reset"), ConnectionResetError(104, "reset")),
        u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
        ours.ReadError,
    ),
    (
        "undecodable body",
        rex.ContentDecodingError(u3.DecodeError("bad gzip")),
        httpx.DecodingError("bad gzip"),
        u3.DecodeError("bad gzip"),
        ours.DecodingError,
    ),
    (
        "proxy failed",
        rex.ProxyError("proxy refused"),
        httpx.ProxyError("proxy refused"),
        u3.ProxyError("proxy refused", OSError("refused")),
        ours.ConnectError,
    ),
]


@pytest.mark.parametrize(
    ("requests_error", "httpx_error", "urllib3_error", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in ANALOGUES],
)
def test_analogous_failures_map_to_the_same_class(
    requests_error: BaseException,
    httpx_error: BaseException,
    urllib3_error: BaseException,
    expected: type[TransportError],
) -> None:
    """The same failure, as requests, httpx and urllib3 each report it, becomes the same
    exception class of ours on every backend."""
    got = {
        "requests": requests_backend.map_requests_error(requests_error, REQUEST),
        "httpx": httpx_backend.map_httpx_error(httpx_error, REQUEST),
        "urllib3": urllib3_backend.map_urllib3_error(urllib3_error, REQUEST),
    }
    assert {name: type(error) for name, error in got.items()} == dict.fromkeys(got, expected)
