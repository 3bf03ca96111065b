"""A Python client for the Datawrapper API v3, fast over pooled connections, with retries.

>>> import datawrapper as dw
>>> client = dw.Datawrapper(max_retries=5, timeout=dw.Timeout(connect=5, read=30))  # doctest: +SKIP
"""

from __future__ import annotations

from ._client import Datawrapper
from ._exceptions import (
    Attempt,
    AuthenticationError,
    ConnectError,
    ConnectTimeout,
    DatawrapperError,
    DeadlineExceeded,
    DecodingError,
    FailedRequestError,
    ForbiddenError,
    InvalidRequestError,
    MissingTokenError,
    NetworkError,
    NotFoundError,
    PartialFailureError,
    PoolTimeout,
    RateLimitError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    ServerError,
    TimeoutException,
    TLSError,
    TransportError,
    UnauthorizedError,
    WriteError,
    WriteTimeout,
)
from ._hooks import Event, Hook
from ._ratelimit import RateLimiter
from .transport import (
    Headers,
    MockTransport,
    PoolConfig,
    Request,
    Response,
    RetryPolicy,
    Timeout,
    Transport,
)

__version__ = "0.1.0"

__all__ = [
    "Attempt",
    "AuthenticationError",
    "ConnectError",
    "ConnectTimeout",
    "Datawrapper",
    "DatawrapperError",
    "DeadlineExceeded",
    "DecodingError",
    "Event",
    "FailedRequestError",
    "ForbiddenError",
    "Headers",
    "Hook",
    "InvalidRequestError",
    "MissingTokenError",
    "MockTransport",
    "NetworkError",
    "NotFoundError",
    "PartialFailureError",
    "PoolConfig",
    "PoolTimeout",
    "RateLimitError",
    "RateLimiter",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Request",
    "Response",
    "RetryPolicy",
    "ServerError",
    "TLSError",
    "Timeout",
    "TimeoutException",
    "Transport",
    "TransportError",
    "UnauthorizedError",
    "WriteError",
    "WriteTimeout",
    "__version__",
]
