"""Helpers shared by the conformance suite: the backends under test, recorders, clients, and
raw sockets that misbehave in ways FakeServer cannot (never accept, never read).

Only the suite imports this module (``tests/conformance`` is on ``sys.path`` under pytest's
default import mode); it registers no hypothesis profile and no fixture.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from datawrapper import Datawrapper, Event
from datawrapper._exceptions import DatawrapperError, FailedRequestError, TransportError
from datawrapper.testing import FakeServer, FaultScript, echo_app, in_process_transport
from datawrapper.transport import Request, Response

#: The three real backends, each run over real loopback sockets.
BACKENDS: tuple[str, ...] = ("requests", "httpx", "urllib3")
#: The backends plus the in-process MockTransport, for properties that do not need a socket.
WITH_MOCK: tuple[str, ...] = (*BACKENDS, "mock")

#: Header fields a backend may add to a request on its own. Everything else the server
#: receives must have been sent by us, with the same value. See docs/backends.md.
#: - host, content-length: framing, added by every backend;
#: - accept-encoding ("identity") and user-agent ("python-urllib3/..."): added by requests
#:   and urllib3 when the request has none (httpx adds neither);
#: - connection: allowed by the brief; no backend adds it today.
ALLOWED_EXTRA_REQUEST_HEADERS = frozenset(
    {"host", "content-length", "accept-encoding", "user-agent", "connection"}
)

#: What the behavioural tests expect of each backend where the libraries differ. The same
#: facts are the table in docs/backends.md; test_conformance_docs.py checks they agree.
#: Which limit bounds a stalled request upload (the send phase) on each backend.
WRITE_PHASE_LIMIT = {"requests": "connect", "httpx": "write", "urllib3": "connect"}
#: Whether idle connections beyond PoolConfig.max_keepalive_connections are closed.
KEEPALIVE_LIMIT_HONOURED = {"requests": True, "httpx": True, "urllib3": True}

#: Whether verify=False makes the library warn (InsecureRequestWarning) on every request, on
#: top of the one log line of our layer.
INSECURE_WARNING_PER_REQUEST = {"requests": True, "httpx": False, "urllib3": True}

#: Generous upper slack for a timer that must fire (loaded 2-core CI box).
SLACK = 0.6


class SleepRecorder:
    """An injected ``sleep`` that records the requested waits and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.calls.append(seconds)


class EventRecorder:
    """A client hook that keeps every :class:`Event`; counts attempts."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    @property
    def attempts(self) -> int:
        """How many attempts were started."""
        with self._lock:
            return sum(1 for e in self.events if e.kind == "request")


class CountingApp:
    """Wraps an application and counts how many requests it processed, thread-safely."""

    def __init__(self, app: Callable[[Request], Response] = echo_app) -> None:
        self.app = app
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.calls += 1
        return self.app(request)


def no_sleep(seconds: float) -> None:
    """A sleep for the in-process fault handler that does not wait."""


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` every 10 ms until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def settle(server: FakeServer, timeout: float = 5.0) -> None:
    """Wait until the server has no open connection, so examples cannot leak into each other.

    Call it after closing every client of ``server``: a connection thread still inside a
    scripted delay finishes it first (a fraction of a second in this suite).
    """
    assert wait_until(lambda: server.open_connections == 0, timeout), (
        f"the fake server still has {server.open_connections} open connections "
        f"{timeout:g} s after every client was closed"
    )


def reset_server(server: FakeServer, app: Callable[[Request], Response] | None = None) -> None:
    """Forget scripted faults and install ``app`` (echo by default) before an example."""
    server.faults.clear()
    server.app = app if app is not None else echo_app


def make_client(
    backend: str,
    server: FakeServer,
    *,
    app: Callable[[Request], Response] | None = None,
    faults: FaultScript | None = None,
    **kwargs: Any,
) -> Datawrapper:
    """A client of ``server`` over ``backend``; "mock" runs ``app`` in-process with ``faults``.

    The token is fixed ("test-token", what FakeDatawrapperAPI accepts by default); pass
    ``sleep=`` and ``hooks=`` to observe retries without waiting.
    """
    kwargs.setdefault("access_token", "test-token")
    if backend == "mock":
        transport = in_process_transport(
            app if app is not None else echo_app, faults or FaultScript(), sleep=no_sleep
        )
        return Datawrapper(base_url=server.url, transport=transport, **kwargs)
    return Datawrapper(base_url=server.url, transport=backend, **kwargs)


@dataclass(frozen=True)
class Outcome:
    """What one client call amounted to, in terms every backend must agree on."""

    result: str  # "status 200" or the exception class name
    attempts: int
    outcome_unknown: bool | None
    sleeps: tuple[float, ...]
    processed: int  # how many times the application handled the request
    received: int | None  # requests the server read (None for the in-process mock)


def run_call(
    call: Callable[[], object],
    *,
    events: EventRecorder,
    sleeps: SleepRecorder,
    app: CountingApp,
    received: Callable[[], int] | None,
) -> tuple[Outcome, BaseException | None]:
    """Run ``call`` and describe its outcome; any exception must be one of ours."""
    before = received() if received is not None else None
    error: BaseException | None = None
    try:
        value = call()
        result = f"status {value.status_code}" if isinstance(value, Response) else "ok"
        unknown: bool | None = None
    except DatawrapperError as exc:
        error = exc
        result = type(exc).__name__
        unknown = exc.outcome_unknown if isinstance(exc, TransportError) else None
        if isinstance(exc, FailedRequestError):
            result += f" {exc.status_code}"
    count = None if received is None or before is None else received() - before
    outcome = Outcome(
        result=result,
        attempts=events.attempts,
        outcome_unknown=unknown,
        sleeps=tuple(round(s, 6) for s in sleeps.calls),
        processed=app.calls,
        received=count,
    )
    return outcome, error


# --------------------------------------------------------------------------- raw sockets


@contextlib.contextmanager
def unaccepting_listener() -> Iterator[tuple[str, int]]:
    """An address whose accept queue is full, so a new TCP connect hangs (loopback only).

    The listener has a backlog of 0 and is never accepted from; a few non-blocking connects
    fill its queue, after which the kernel drops further SYNs and ``connect()`` blocks until
    the client's connect timeout. The trick is checked before use.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(address)
            fillers.append(filler)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.2)
        try:
            probe.connect(address)
        except TimeoutError:
            pass
        else:  # pragma: no cover - depends on the kernel
            raise AssertionError("the accept queue did not fill: connect() succeeded")
        finally:
            probe.close()
        yield address[0], address[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@contextlib.contextmanager
def non_reading_server() -> Iterator[tuple[str, int]]:
    """A loopback server that accepts connections and never reads from them.

    A large upload to it stalls once the socket buffers are full, which is how the suite
    provokes a write timeout.
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, name="non-reading-server", daemon=True)
    thread.start()
    try:
        address = listener.getsockname()
        yield address[0], address[1]
    finally:
        stop.set()
        thread.join(2.0)
        listener.close()
        for conn in held:
            conn.close()
