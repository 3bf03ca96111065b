"""Scripted faults for tests: :class:`Fault`, :class:`FaultScript` and the in-process handler.

A :class:`Fault` describes one thing that goes wrong with one response: an error status, a
429 with a ``Retry-After`` header, a delay, a slow body, a connection that is closed or reset
half-way. A :class:`FaultScript` is a FIFO of faults, each matched by method and path, that
:class:`~datawrapper.testing.FakeServer` applies over real sockets and
:func:`in_process_handler` applies without any socket, raising the exception a real backend
would raise.

Whether the application sees the request (``process=True``: a chart is created, then the
response is lost) or not is part of each fault, because that is what decides whether retrying
a POST is safe.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Literal

from .._exceptions import ReadError, ReadTimeout, RemoteProtocolError, TransportError
from ..transport._config import Timeout
from ..transport._mock import MockTransport
from ..transport._models import Headers, HeadersLike, Request, Response

__all__ = [
    "App",
    "Fault",
    "FaultKind",
    "FaultScript",
    "in_process_handler",
    "in_process_transport",
]

logger = logging.getLogger("datawrapper.testing")

App = Callable[[Request], Response]
"""An application: takes a :class:`~datawrapper.transport.Request`, returns a Response."""

FaultKind = Literal[
    "status",
    "delay",
    "slow_body",
    "close_after_headers",
    "truncated_body",
    "reset",
    "close_before_response",
]

_CUT_SHORT_BODY = b'{"message":"fake server: placeholder body of a cut-short response"}'


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown Status"


def boom_body(code: int, message: str | None = None) -> bytes:
    """A Datawrapper (Hapi Boom) error body: ``{"statusCode", "error", "message"}``."""
    reason = _reason(code)
    return json.dumps(
        {"statusCode": code, "error": reason, "message": message or reason},
        separators=(",", ":"),
    ).encode("utf-8")


def boom_response(code: int, message: str | None = None) -> Response:
    """A :class:`Response` with a Boom-shaped JSON error body."""
    return Response(
        status_code=code,
        headers=Headers([("Content-Type", "application/json; charset=utf-8")]),
        content=boom_body(code, message),
    )


def check_seconds(name: str, value: object) -> float:
    """``value`` as finite seconds >= 0, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"{name} must be a number of seconds, got {type(value).__name__} {value!r}"
        )
    seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def split_body(body: bytes, chunks: int) -> list[bytes]:
    """``body`` cut into at most ``chunks`` nearly equal non-empty pieces, in order."""
    if not body:
        return []
    count = min(chunks, len(body))
    size, extra = divmod(len(body), count)
    pieces = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        pieces.append(body[start:end])
        start = end
    return pieces


def cut_short_lengths(body: bytes) -> tuple[int, int]:
    """(announced Content-Length, bytes actually sent) for a truncated body: always sent < announced."""
    announced = max(len(body), 2)
    return announced, min(len(body), announced // 2)


@dataclass(frozen=True, slots=True, repr=False)
class Fault:
    """One injected fault. Build it with a classmethod: ``Fault.status(503)``, ``Fault.reset()`` ...

    - :meth:`status` / :meth:`rate_limited`: answer this status instead of calling the app.
    - :meth:`delay`: wait before sending the response headers, then answer normally.
    - :meth:`slow_body`: send the headers, then the body in pieces with a pause before each.
    - :meth:`close_after_headers`: send the headers (with a Content-Length > 0), then close.
    - :meth:`truncated_body`: send the headers and only half of the body, then close.
    - :meth:`reset`: abort the connection with a TCP RST without answering.
    - :meth:`close_before_response`: close the connection cleanly without answering.

    ``process`` says whether the application handles the request (and its side effects
    happen) before the fault hits the response.
    """

    kind: FaultKind
    status_code: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    seconds: float = 0.0
    chunks: int = 1
    process: bool = True

    # ------------------------------------------------------------------ constructors

    @classmethod
    def status(cls, code: int, *, headers: HeadersLike = None, body: bytes | None = None) -> Fault:
        """Answer ``code`` instead of calling the application.

        The default body is a Datawrapper error, ``{"statusCode": code, "error": <reason>,
        "message": <reason>}`` as ``application/json``; ``body`` replaces it (say an HTML page
        of a proxy; give its ``Content-Type`` in ``headers``, none is added for you).
        """
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
            raise ValueError(f"Fault.status needs an HTTP status from 200 to 599, got {code!r}")
        pairs = Headers(headers).raw()
        if body is None:
            body = boom_body(code)
            if not any(name.lower() == "content-type" for name, _ in pairs):
                pairs = (("Content-Type", "application/json; charset=utf-8"), *pairs)
        elif not isinstance(body, bytes):
            raise ValueError(
                f"Fault.status body must be bytes, got {type(body).__name__}; "
                "encode text with .encode('utf-8')"
            )
        return cls(kind="status", status_code=code, headers=pairs, body=body, process=False)

    @classmethod
    def rate_limited(
        cls,
        retry_after: str | float | None = None,
        *,
        header: str = "Retry-After",
        extra_headers: HeadersLike = None,
    ) -> Fault:
        """A 429 Too Many Requests, with ``header: retry_after`` when ``retry_after`` is given.

        The value is sent as given, so malformed ones can be tested: ``"2"``, ``"0.5"``, an
        HTTP-date, ``"-3"``, ``"garbage"``. ``header="retry-after-ms"`` sends milliseconds.
        """
        pairs: list[tuple[str, str]] = []
        if retry_after is not None:
            if isinstance(retry_after, bool) or not isinstance(retry_after, (str, int, float)):
                raise ValueError(
                    f"Fault.rate_limited retry_after must be a str or a number, got {retry_after!r}"
                )
            pairs.append((header, str(retry_after)))
        pairs.extend(Headers(extra_headers).raw())
        return cls.status(429, headers=pairs)

    @classmethod
    def delay(cls, seconds: float, *, process: bool = True) -> Fault:
        """Wait ``seconds`` before sending the response headers, then answer normally.

        With ``process=True`` the application runs before the wait, so a client that times
        out has still caused the side effects; with ``process=False`` it runs after the wait,
        and only if the client is still connected.
        """
        return cls(
            kind="delay",
            seconds=check_seconds("Fault.delay seconds", seconds),
            process=_flag("Fault.delay process", process),
        )

    @classmethod
    def slow_body(cls, *, chunk_delay: float, chunks: int = 4) -> Fault:
        """Send the headers at once, then the body in ``chunks`` pieces, each after ``chunk_delay`` s.

        A body shorter than ``chunks`` bytes is sent one byte per piece; an empty body has no
        pieces and no pause.
        """
        if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
            raise ValueError(f"Fault.slow_body chunks must be an int >= 1, got {chunks!r}")
        return cls(
            kind="slow_body",
            seconds=check_seconds("Fault.slow_body chunk_delay", chunk_delay),
            chunks=chunks,
        )

    @classmethod
    def close_after_headers(cls, *, process: bool = True) -> Fault:
        """Send the status line and headers, with a Content-Length > 0, then close the connection."""
        return cls(
            kind="close_after_headers", process=_flag("Fault.close_after_headers process", process)
        )

    @classmethod
    def truncated_body(cls, *, process: bool = True) -> Fault:
        """Send the headers with the real Content-Length but only half the body, then close.

        A body shorter than two bytes is announced as two bytes long, so it is always cut short.
        """
        return cls(kind="truncated_body", process=_flag("Fault.truncated_body process", process))

    @classmethod
    def reset(cls, *, process: bool = False) -> Fault:
        """Abort the connection with a TCP RST (``SO_LINGER`` 0) without answering."""
        return cls(kind="reset", process=_flag("Fault.reset process", process))

    @classmethod
    def close_before_response(cls, *, process: bool = False) -> Fault:
        """Close the connection cleanly (FIN) without answering."""
        return cls(
            kind="close_before_response",
            process=_flag("Fault.close_before_response process", process),
        )

    # ------------------------------------------------------------------ helpers

    def response(self) -> Response:
        """The response of a status fault (a placeholder 200 for the other kinds)."""
        if self.kind == "status":
            return Response(
                status_code=self.status_code,
                headers=Headers(self.headers),
                content=self.body or b"",
            )
        return Response(
            status_code=200,
            headers=Headers([("Content-Type", "application/json")]),
            content=_CUT_SHORT_BODY,
        )

    def describe(self) -> str:
        """What this fault does, in words."""
        processed = "request processed" if self.process else "request not processed"
        if self.kind == "status":
            text = f"answer {self.status_code} {_reason(self.status_code)}"
            extra = [
                f"{name}: {value}" for name, value in self.headers if name.lower() != "content-type"
            ]
            if extra:
                text += " with " + ", ".join(extra)
            return text
        if self.kind == "delay":
            return f"wait {self.seconds:g} s before the response headers ({processed})"
        if self.kind == "slow_body":
            return f"send the body in {self.chunks} chunks, each after {self.seconds:g} s"
        if self.kind == "close_after_headers":
            return f"close the connection after the response headers ({processed})"
        if self.kind == "truncated_body":
            return f"send half the body, then close the connection ({processed})"
        if self.kind == "reset":
            return f"reset the connection (TCP RST) without answering ({processed})"
        return f"close the connection without answering ({processed})"

    def __repr__(self) -> str:
        if self.kind == "status":
            args = [str(self.status_code)]
            if self.headers:
                args.append(f"headers={list(self.headers)!r}")
            if self.body is not None and self.body != boom_body(self.status_code):
                shown = self.body if len(self.body) <= 40 else self.body[:40] + b"..."
                args.append(f"body={shown!r}")
            return f"Fault.status({', '.join(args)})"
        if self.kind == "delay":
            return f"Fault.delay({self.seconds:g}, process={self.process})"
        if self.kind == "slow_body":
            return f"Fault.slow_body(chunk_delay={self.seconds:g}, chunks={self.chunks})"
        return f"Fault.{self.kind}(process={self.process})"


@dataclass(slots=True)
class _Entry:
    fault: Fault
    method: str | None
    path: re.Pattern[str] | None
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None


class FaultScript:
    """A thread-safe FIFO of scripted faults, each for the requests that match it.

    ``add(Fault.status(503), method="POST", path=r"^/v3/charts$", times=2)`` makes the next two
    POSTs to ``/v3/charts`` fail. :meth:`next_for` takes the first entry that matches a
    request, so faults for one endpoint fire in the order they were added and never affect
    other endpoints.
    """

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        for fault in faults:
            self.add(fault)

    def add(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        times: int = 1,
    ) -> None:
        """Script ``fault`` for the next ``times`` requests matching ``method`` and ``path``.

        ``method`` is compared case-insensitively (None matches any); ``path`` is a regular
        expression searched in the request path without the query (None matches any).
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"FaultScript.add needs a Fault, got {type(fault).__name__}")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"FaultScript.add times must be an int >= 1, got {times!r}")
        if method is not None and (not isinstance(method, str) or not method.isalpha()):
            raise ValueError(
                f"FaultScript.add method must be an HTTP method such as 'POST' or None, "
                f"got {method!r}"
            )
        pattern: re.Pattern[str] | None
        if path is None or isinstance(path, re.Pattern):
            pattern = path
        elif isinstance(path, str):
            try:
                pattern = re.compile(path)
            except re.error as exc:
                raise ValueError(
                    f"FaultScript.add path {path!r} is not a valid regex: {exc}"
                ) from None
        else:
            raise ValueError(f"FaultScript.add path must be a regex string or None, got {path!r}")
        entry = _Entry(fault, method.upper() if method else None, pattern, times)
        with self._lock:
            self._entries.append(entry)

    def next_for(self, method: str, path: str) -> Fault | None:
        """The fault for this request, consumed from the script, or None to answer normally."""
        with self._lock:
            for index, entry in enumerate(self._entries):
                if entry.matches(method, path):
                    entry.remaining -= 1
                    if entry.remaining == 0:
                        del self._entries[index]
                    return entry.fault
        return None

    def clear(self) -> None:
        """Drop every scripted fault that has not fired yet."""
        with self._lock:
            self._entries.clear()

    @property
    def pending(self) -> int:
        """How many faults are still to fire (an entry added with ``times=3`` counts 3)."""
        with self._lock:
            return sum(entry.remaining for entry in self._entries)

    def __len__(self) -> int:
        return self.pending

    def __repr__(self) -> str:
        with self._lock:
            parts = [
                f"{e.fault!r} x{e.remaining}"
                + (f" {e.method}" if e.method else "")
                + (f" {e.path.pattern!r}" if e.path else "")
                for e in self._entries
            ]
        return f"<FaultScript [{'; '.join(parts)}]>"


def as_script(faults: FaultScript | Iterable[Fault] | None) -> FaultScript:
    """``faults`` itself when it is a script (so it stays shared), else a new script of them."""
    if isinstance(faults, FaultScript):
        return faults
    return FaultScript(faults or ())


def call_app(app: App, request: Request) -> Response:
    """``app(request)``, with a crash or a wrong return type turned into a 500 Boom response."""
    try:
        response = app(request)
    except TransportError:
        raise
    except Exception as exc:
        logger.error("fake server: the application raised on %r", request, exc_info=True)
        return boom_response(
            500, f"fake server: the application raised {type(exc).__name__}: {exc}"
        )
    if not isinstance(response, Response):
        logger.error(
            "fake server: the application returned %s for %r, not a Response",
            type(response).__name__,
            request,
        )
        return boom_response(
            500, f"fake server: the application returned {type(response).__name__}, not a Response"
        )
    return response


def in_process_handler(
    app: App,
    faults: FaultScript | Iterable[Fault] | None = None,
    *,
    sleep: Callable[[float], object] = time.sleep,
) -> Callable[..., Response]:
    """A ``handler(request, timeout=None)`` for :class:`~datawrapper.MockTransport`.

    It answers with ``app`` and applies the same :class:`FaultScript` as the fake server,
    raising what a real backend raises: a delay at or above ``timeout.read`` sleeps
    ``timeout.read`` and raises :class:`~datawrapper.ReadTimeout`; a connection closed early
    raises :class:`~datawrapper.RemoteProtocolError`; a reset raises
    :class:`~datawrapper.ReadError`. Pass a fake ``sleep`` to keep tests instant. When
    ``faults`` is a :class:`FaultScript` it is shared, so a test can keep scripting it.
    """
    script = as_script(faults)

    def handler(request: Request, timeout: Timeout | None = None) -> Response:
        response = answer(request, timeout)
        if response.content and (request.method == "HEAD" or response.status_code in (204, 304)):
            # What a real HTTP exchange delivers: these responses never carry a body.
            return replace(response, content=b"")
        return response

    def answer(request: Request, timeout: Timeout | None) -> Response:
        fault = script.next_for(request.method, request.path)
        if fault is None:
            return call_app(app, request)
        if fault.kind == "status":
            return fault.response()
        limit = timeout.read if timeout is not None else None
        if fault.kind == "delay":
            response = call_app(app, request) if fault.process else None
            if limit is not None and fault.seconds >= limit:
                sleep(limit)
                raise ReadTimeout(
                    f"fake server: no response within the read timeout of {limit:g} s "
                    f"(in-process fault: {fault.describe()})",
                    request=request,
                )
            sleep(fault.seconds)
            return response if response is not None else call_app(app, request)
        if fault.kind == "slow_body":
            response = call_app(app, request)
            pieces = split_body(response.content, fault.chunks)
            if pieces and limit is not None and fault.seconds >= limit:
                sleep(limit)
                raise ReadTimeout(
                    f"fake server: the body stalled longer than the read timeout of {limit:g} s "
                    f"(in-process fault: {fault.describe()})",
                    request=request,
                )
            for _ in pieces:
                sleep(fault.seconds)
            return response
        if fault.process:
            call_app(app, request)
        if fault.kind in ("close_after_headers", "truncated_body"):
            what = (
                "after the headers" if fault.kind == "close_after_headers" else "half-way through"
            )
            raise RemoteProtocolError(
                f"fake server: connection closed {what} the response body (in-process fault)",
                request=request,
            )
        if fault.kind == "reset":
            raise ReadError(
                "fake server: connection reset before the response (in-process fault)",
                request=request,
            )
        raise RemoteProtocolError(
            "fake server: connection closed before the response (in-process fault)",
            request=request,
        )

    return handler


def in_process_transport(
    app: App,
    faults: FaultScript | Iterable[Fault] | None = None,
    *,
    sleep: Callable[[float], object] = time.sleep,
) -> MockTransport:
    """A :class:`~datawrapper.MockTransport` answering with ``app`` under the fault script ``faults``."""
    return MockTransport(in_process_handler(app, faults, sleep=sleep))
