"""Every exception the package raises, in one tree.

::

    DatawrapperError
    ├── InvalidRequestError          bad input found before anything was sent (also a ValueError)
    ├── MissingTokenError            no API token configured (also an InvalidRequestError)
    ├── TransportError               the HTTP exchange itself failed; .request, .attempts
    │   ├── TimeoutException
    │   │   ├── ConnectTimeout       no connection within Timeout.connect   (not sent)
    │   │   ├── PoolTimeout          no free pooled connection in Timeout.pool (not sent)
    │   │   ├── ReadTimeout          no response bytes within Timeout.read  (sent)
    │   │   └── WriteTimeout         could not send within the write limit  (sent, partly)
    │   ├── NetworkError
    │   │   ├── ConnectError         connection refused, DNS failure ...    (not sent)
    │   │   │   └── TLSError         handshake or certificate failure       (not sent)
    │   │   ├── ReadError            connection reset while reading         (sent)
    │   │   └── WriteError           connection broken while sending        (sent, partly)
    │   ├── RemoteProtocolError      malformed or cut-short response (closed early, truncated)
    │   └── DecodingError            the body's Content-Encoding could not be decoded
    ├── FailedRequestError           the server answered with a non-2xx status
    │   ├── AuthenticationError      401 and 403 (UnauthorizedError, ForbiddenError)
    │   ├── NotFoundError            404
    │   ├── RateLimitError           429; .retry_after says how long the server asked to wait
    │   └── ServerError              5xx
    ├── DeadlineExceeded             the call's total deadline passed (also a TimeoutError)
    └── PartialFailureError          a multi-step operation failed half-way; .chart_id is set

Each backend turns its library's exceptions into this tree in exactly one function
(``_map_exceptions`` in its module), so code written against one backend works on all.

``TransportError.request_sent`` tells whether the request may have reached the server. When a
non-idempotent request (a POST) fails after it was sent, it is not retried and the exception
says that the outcome is unknown: the server may or may not have acted on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ._redact import redact_text, redact_url

if TYPE_CHECKING:
    from .transport._models import Request, Response

__all__ = [
    "Attempt",
    "AuthenticationError",
    "ConnectError",
    "ConnectTimeout",
    "DatawrapperError",
    "DeadlineExceeded",
    "DecodingError",
    "FailedRequestError",
    "ForbiddenError",
    "InvalidRequestError",
    "MissingTokenError",
    "NetworkError",
    "NotFoundError",
    "PartialFailureError",
    "PoolTimeout",
    "RateLimitError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "ServerError",
    "TLSError",
    "TimeoutException",
    "TransportError",
    "UnauthorizedError",
    "WriteError",
    "WriteTimeout",
    "error_for_response",
]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a request, as kept in an exception's ``.attempts`` history.

    ``url`` is already redacted; ``error`` is the exception class name for a transport
    failure; ``delay`` is the wait chosen after this attempt (None when none followed).
    """

    number: int
    method: str
    url: str
    status_code: int | None
    error: str | None
    elapsed: float
    delay: float | None = None
    reason: str = ""


class DatawrapperError(Exception):
    """The base class of every exception raised by this package."""

    def __init__(self, message: str) -> None:
        super().__init__(redact_text(message))

    #: The tries made, oldest first (set on errors raised by the retry engine).
    attempts: tuple[Attempt, ...] = ()

    @property
    def message(self) -> str:
        """The human-readable message (never contains a token)."""
        return str(self.args[0]) if self.args else ""

    @property
    def attempt_count(self) -> int:
        """How many attempts were made before this error was raised (0 if none recorded)."""
        return len(self.attempts)


class InvalidRequestError(DatawrapperError, ValueError):
    """Bad input found on the client side, before any network traffic."""


class MissingTokenError(InvalidRequestError):
    """No API token was given and ``DATAWRAPPER_ACCESS_TOKEN`` is not set."""


class DeadlineExceeded(DatawrapperError, TimeoutError):
    """The call's total deadline passed before it could finish."""

    def __init__(self, message: str, *, attempts: Sequence[Attempt] = ()) -> None:
        super().__init__(message)
        self.attempts: tuple[Attempt, ...] = tuple(attempts)


# --------------------------------------------------------------------------- transport errors


class TransportError(DatawrapperError):
    """The HTTP exchange failed before a complete response arrived.

    ``request_sent`` is False when the request certainly never reached the server (it is then
    safe to repeat any request), True when it may have.
    """

    request_sent: ClassVar[bool] = True

    def __init__(self, message: str, *, request: Request | None = None) -> None:
        super().__init__(message)
        self.request = request
        self.attempts: tuple[Attempt, ...] = ()
        self.outcome_unknown = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class TimeoutException(TransportError):
    """A time limit of :class:`~datawrapper.Timeout` was reached."""


class ConnectTimeout(TimeoutException):
    """No connection could be opened within ``Timeout.connect``."""

    request_sent = False


class PoolTimeout(TimeoutException):
    """No pooled connection became free within ``Timeout.pool``."""

    request_sent = False


class ReadTimeout(TimeoutException):
    """The server sent nothing for ``Timeout.read`` seconds."""


class WriteTimeout(TimeoutException):
    """The request could not be sent within the write limit."""


class NetworkError(TransportError):
    """The connection failed."""


class ConnectError(NetworkError):
    """The connection could not be opened (refused, unreachable, DNS failure)."""

    request_sent = False


class TLSError(ConnectError):
    """The TLS handshake failed, e.g. the certificate could not be verified."""


class ReadError(NetworkError):
    """The connection broke while the response was being read."""


class WriteError(NetworkError):
    """The connection broke while the request was being sent."""


class RemoteProtocolError(TransportError):
    """The server broke the HTTP protocol: closed early, truncated body, garbage status line."""


class DecodingError(TransportError):
    """The response body could not be decoded according to its Content-Encoding."""


# --------------------------------------------------------------------------- status errors


class FailedRequestError(DatawrapperError):
    """The server answered with a status that is not 2xx.

    ``status_code``, ``response``, and the fields of Datawrapper's error body
    (``error_message``, ``error``, ``details``) are kept; ``attempts`` is the retry history.
    """

    def __init__(
        self,
        response: Response,
        *,
        message: str | None = None,
        retry_after: float | None = None,
        attempts: Sequence[Attempt] = (),
    ) -> None:
        self.response = response
        self.status_code = response.status_code
        self.retry_after = retry_after
        #: True when a non-idempotent request (POST) got a status that may mean the server
        #: acted on it (a 5xx): it was not retried, and whether it took effect is unknown.
        self.outcome_unknown = False
        self.attempts: tuple[Attempt, ...] = tuple(attempts)
        body = parse_error_body(response.content, response.headers.get("content-type", ""))
        self.error: str = redact_text(body.get("error") or response.reason_phrase)
        self.error_message: str = redact_text(body.get("message") or "")
        self.details: Any = body.get("details")
        self.error_type: str | None = body.get("type")
        self.request = response.request
        super().__init__(message or self._default_message())

    def _default_message(self) -> str:
        what = f"{self.status_code} {self.error}".strip()
        where = ""
        if self.request is not None:
            where = f" for {self.request.method} {redact_url(self.request.url)}"
        text = f"Request failed with status {what}{where}"
        if self.error_message and self.error_message != self.error:
            text += f": {self.error_message}"
        if len(self.attempts) > 1:
            text += f" (after {len(self.attempts)} attempts)"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class AuthenticationError(FailedRequestError):
    """401 or 403: the token is missing, wrong, or lacks the scope for this call."""


class UnauthorizedError(AuthenticationError):
    """401: the token is missing or invalid."""


class ForbiddenError(AuthenticationError):
    """403: the token is valid but may not do this."""


class NotFoundError(FailedRequestError):
    """404: no such chart, folder or resource (or not visible to this token)."""


class RateLimitError(FailedRequestError):
    """429: too many requests. ``retry_after`` is the wait the server asked for, if any."""

    def _default_message(self) -> str:
        text = "Rate limit exceeded"
        if self.request is not None:
            text += f" for {self.request.method} {redact_url(self.request.url)}"
        if self.retry_after is not None:
            text += f"; the server asked to wait {self.retry_after:g} s"
        if len(self.attempts) > 1:
            text += f" (after {len(self.attempts)} attempts)"
        if self.error_message and self.error_message not in ("Too Many Requests",):
            text += f": {self.error_message}"
        return text


class ServerError(FailedRequestError):
    """5xx: the server failed."""


class PartialFailureError(DatawrapperError):
    """A multi-step operation failed after its first step succeeded.

    For example, ``create()`` made the chart but uploading its data failed: ``chart_id`` names
    the chart that exists on the server, and ``__cause__`` is the error of the failed step.
    """

    def __init__(self, message: str, *, chart_id: str, step: str) -> None:
        super().__init__(message)
        self.chart_id = chart_id
        self.step = step


# --------------------------------------------------------------------------- helpers


def parse_error_body(content: bytes, content_type: str = "") -> dict[str, Any]:
    """The fields of a Datawrapper (Hapi Boom) error body, or ``{}`` when it is not one.

    Never raises: an HTML page from a proxy, an empty body or broken JSON give ``{}``.
    """
    if not content or len(content) > 1_000_000:
        return {}
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    result: dict[str, Any] = {}
    for key in ("error", "message", "type"):
        value = data.get(key)
        if isinstance(value, str):
            result[key] = value[:2000]
    if "statusCode" in data and isinstance(data["statusCode"], int):
        result["statusCode"] = data["statusCode"]
    if "details" in data:
        result["details"] = data["details"]
    return result


_STATUS_CLASSES: dict[int, type[FailedRequestError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_for_response(
    response: Response,
    *,
    retry_after: float | None = None,
    attempts: Sequence[Attempt] = (),
) -> FailedRequestError:
    """The exception that stands for the non-2xx ``response``."""
    cls = _STATUS_CLASSES.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else FailedRequestError
    return cls(response, retry_after=retry_after, attempts=attempts)
