""":class:`MockTransport`: answers requests with a function, in-process, for tests."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from .._exceptions import TransportError
from ._base import BaseTransport
from ._config import Timeout
from ._models import Request, Response

__all__ = ["MockTransport"]

Handler = Callable[..., Response]


class MockTransport(BaseTransport):
    """A transport whose responses come from ``handler(request)``.

    ``handler(request)`` -- or ``handler(request, timeout=...)`` when it has a ``timeout``
    parameter, to act on the :class:`Timeout` of the attempt -- returns a :class:`Response` or
    raises a
    :class:`~datawrapper.TransportError` subclass (e.g. ``ReadTimeout``) to stand for a
    network failure. Every request seen is kept in :attr:`requests`, in order, and the
    timeout it was sent with in :attr:`timeouts`. Thread-safe.
    """

    name = "mock"

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError(
                f"MockTransport needs a callable handler(request) -> Response, got "
                f"{type(handler).__name__}"
            )
        self.handler = handler
        try:
            params = inspect.signature(handler).parameters
        except (TypeError, ValueError):  # builtins without a signature
            params = {}  # type: ignore[assignment]
        self._pass_timeout = "timeout" in params
        self.requests: list[Request] = []
        self.timeouts: list[Timeout] = []
        self._lock = threading.Lock()
        self.closed = False

    def send(self, request: Request, *, timeout: Timeout) -> Response:
        if self.closed:
            raise RuntimeError("this MockTransport is closed; create a new one")
        with self._lock:
            self.requests.append(request)
            self.timeouts.append(timeout)
        try:
            kwargs: dict[str, Any] = {"timeout": timeout} if self._pass_timeout else {}
            response = self.handler(request, **kwargs)
        except TransportError as exc:
            if exc.request is None:
                exc.request = request
            raise
        if not isinstance(response, Response):
            raise TypeError(
                f"the MockTransport handler must return a datawrapper.transport.Response, "
                f"got {type(response).__name__}"
            )
        if response.request is None:
            response = Response(
                status_code=response.status_code,
                headers=response.headers,
                content=response.content,
                http_version=response.http_version,
                elapsed=response.elapsed,
                request=request,
            )
        return response

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"<MockTransport requests={len(self.requests)}>"
