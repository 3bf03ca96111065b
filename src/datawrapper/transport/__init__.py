"""The HTTP layer: one :class:`Transport` protocol, interchangeable backends, one retry engine.

- :class:`Request`, :class:`Response`, :class:`Headers`: the value types every backend speaks.
- :class:`Timeout`, :class:`PoolConfig`, :class:`RetryPolicy`: one frozen configuration,
  with the same meaning on every backend.
- :class:`RequestsTransport` (the default), :class:`HttpxTransport`,
  :class:`Urllib3Transport`: send a request exactly once over a connection pool.
- :class:`MockTransport`: answers from a function, for tests.
- :class:`RetryEngine`: retries, backoff, ``Retry-After`` and deadlines, above any transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import BACKENDS, BaseTransport, Transport, create_transport, resolve_verify
from ._config import DEFAULT_RETRY_ON, PoolConfig, RetryPolicy, Timeout
from ._mock import MockTransport
from ._models import Headers, Request, Response
from ._requests import RequestsTransport
from ._retry import RetryEngine, parse_retry_after
from ._urllib3 import Urllib3Transport

if TYPE_CHECKING:
    from ._httpx import HttpxTransport

__all__ = [
    "BACKENDS",
    "DEFAULT_RETRY_ON",
    "BaseTransport",
    "Headers",
    "HttpxTransport",
    "MockTransport",
    "PoolConfig",
    "Request",
    "RequestsTransport",
    "Response",
    "RetryEngine",
    "RetryPolicy",
    "Timeout",
    "Transport",
    "Urllib3Transport",
    "create_transport",
    "parse_retry_after",
    "resolve_verify",
]


def __getattr__(name: str) -> Any:
    # httpx is an optional extra: import its backend only when asked for.
    if name == "HttpxTransport":
        try:
            from ._httpx import HttpxTransport
        except ImportError as exc:
            raise ImportError(
                "HttpxTransport needs httpx, which is not installed: "
                "run pip install 'datawrapper[httpx]'"
            ) from exc
        return HttpxTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
