"""Test your Datawrapper automation offline: a fake Datawrapper API and a fault-injecting server.

- :class:`FakeDatawrapperAPI`: an in-memory, stateful Datawrapper API v3 (charts, data,
  folders, a user, exports, publishing) with a request log. Call it with a
  :class:`~datawrapper.transport.Request`, or serve it.
- :class:`FakeServer`: a real HTTP/1.1 keep-alive server on 127.0.0.1 (optionally TLS) that
  counts connections and requests and injects scripted :class:`Fault`\\ s.
- :func:`in_process_transport`: the same application and fault script behind a
  :class:`~datawrapper.MockTransport`, no sockets at all.
"""

from __future__ import annotations

from ._app import FakeDatawrapperAPI
from ._faults import Fault, FaultScript, in_process_handler, in_process_transport
from ._ratelimit import RateLimitedApp, RedisServer, rate_limited
from ._server import FakeServer, ReceivedRequest, echo_app

__all__ = [
    "FakeDatawrapperAPI",
    "FakeServer",
    "Fault",
    "FaultScript",
    "RateLimitedApp",
    "ReceivedRequest",
    "RedisServer",
    "echo_app",
    "in_process_handler",
    "in_process_transport",
    "rate_limited",
]
