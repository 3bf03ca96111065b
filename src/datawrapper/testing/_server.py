""":class:`FakeServer`: a real HTTP/1.1 keep-alive server on loopback for transport tests.

It serves an application (a function from :class:`~datawrapper.transport.Request` to
:class:`~datawrapper.transport.Response`, :func:`echo_app` by default) over real sockets,
one daemon thread per connection, optionally over TLS with a throw-away CA. It counts
connections and requests, keeps every request as a :class:`ReceivedRequest`, and applies
the scripted :class:`~datawrapper.testing.Fault`\\ s of its :attr:`FakeServer.faults`:
statuses, delays, slow bodies, connections closed or reset half-way.

Every socket operation has a timeout and :meth:`FakeServer.stop` closes every connection,
so a broken client can neither hang the server nor the test run.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import select
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .._exceptions import TransportError
from .._redact import redact_url
from ..transport._models import Headers, Request, Response
from ._faults import (
    App,
    Fault,
    FaultScript,
    as_script,
    boom_response,
    call_app,
    check_seconds,
    cut_short_lengths,
    split_body,
)

__all__ = ["FakeServer", "ReceivedRequest", "echo_app"]

logger = logging.getLogger("datawrapper.testing")

_IO_TIMEOUT = 10.0  # longest wait for the rest of a started request, or to send a response
_HANDSHAKE_TIMEOUT = 5.0
_POLL = 0.2  # how often blocked reads look at the stop flag
_MAX_HEAD = 64 * 1024
_MAX_HEADERS = 200
_MAX_BODY = 256 * 1024 * 1024
_JOIN_TIMEOUT = 5.0
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the server received it.

    ``target`` is the raw request-target (path and query); ``headers`` are the (name, value)
    pairs exactly as received, original case and order; ``connection_id`` numbers the
    connections of the server from 1, so requests sharing it came over one connection.
    """

    method: str
    target: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    connection_id: int
    http_version: str

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of the header ``name`` (case-insensitive), or ``default``."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return default


# --------------------------------------------------------------------------- echo app


def _int_header(request: Request, name: str, low: int, high: int) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {raw!r}")
    return value


def echo_app(request: Request) -> Response:
    """Answer 200 with the request body, plus ``X-Echo-Method`` and ``X-Echo-Path`` headers.

    Request headers steer the answer: ``X-Respond-Status: 503`` sets the status,
    ``X-Respond-Body-Size: N`` answers N deterministic bytes (0, 1, ... 255, 0, 1 ...) instead
    of the echo, and ``X-Respond-Header-<Name>: v`` adds the response header ``<Name>: v``.
    """
    parts = urlsplit(request.url)
    headers = [
        ("Content-Type", "application/octet-stream"),
        ("X-Echo-Method", request.method),
        ("X-Echo-Path", (parts.path or "/") + (f"?{parts.query}" if parts.query else "")),
    ]
    prefix = "x-respond-header-"
    headers += [
        (k[len(prefix) :], v) for k, v in request.headers.raw() if k.lower().startswith(prefix)
    ]
    status = _int_header(request, "X-Respond-Status", 200, 599) or 200
    size = _int_header(request, "X-Respond-Body-Size", 0, _MAX_BODY)
    body = request.content if size is None else (bytes(range(256)) * (size // 256 + 1))[:size]
    return Response(status_code=status, headers=Headers(headers), content=body)


# --------------------------------------------------------------------------- errors


class _Closed(Exception):
    """The connection ended (the client went away, a timeout, or the server is stopping)."""


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- server


class FakeServer:
    """A real HTTP/1.1 keep-alive server on an ephemeral loopback port.

    ::

        with FakeServer(FakeDatawrapperAPI(), tls=True) as server:
            server.faults.add(Fault.reset(), method="POST", path="^/v3/charts$")
            client = Client(base_url=server.url, verify=server.ca_path)

    - ``app``: called with a :class:`~datawrapper.transport.Request` (absolute URL built from
      the ``Host`` header) for each request; :func:`echo_app` when None. It may be replaced
      at any time with ``server.app = ...``. A crash answers 500 with a Boom JSON body.
    - ``tls``: serve HTTPS with a certificate for 127.0.0.1, localhost and ::1 from a
      throw-away ``trustme`` CA, whose PEM file is :attr:`ca_path`.
    - ``faults``: a :class:`FaultScript` (shared, so keep scripting it) or faults to apply
      in order; the script is :attr:`faults`.
    - ``keep_alive_timeout``: an idle connection is closed after this many seconds.
    - ``rtt``: crude WAN emulation; each response waits ``rtt`` seconds, the first on a new
      connection twice that.

    Counters (:attr:`connections_opened`, :attr:`requests_received`, :attr:`open_connections`,
    :attr:`max_concurrent_connections`) and :attr:`received` are thread-safe.
    """

    def __init__(
        self,
        app: App | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        faults: FaultScript | Iterable[Fault] | None = None,
        keep_alive_timeout: float = 30.0,
        rtt: float = 0.0,
    ) -> None:
        if app is not None and not callable(app):
            raise TypeError(f"FakeServer app must be callable, got {type(app).__name__}")
        keep_alive_timeout = check_seconds("FakeServer keep_alive_timeout", keep_alive_timeout)
        if keep_alive_timeout == 0:
            raise ValueError("FakeServer keep_alive_timeout must be > 0 seconds, got 0")
        rtt = check_seconds("FakeServer rtt", rtt)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"FakeServer port must be an int from 0 to 65535, got {port!r}")
        self.app: App = app if app is not None else echo_app
        self.host = host
        self.tls = tls
        self.keep_alive_timeout = keep_alive_timeout
        self.rtt = rtt
        self.faults: FaultScript = as_script(faults)
        self._requested_port = port
        self._port: int | None = None
        self._listener: socket.socket | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._ca: Any = None
        self._ca_dir: str | None = None
        self._ca_path: str | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._stopped = False
        self._cond = threading.Condition()
        self._connections: dict[int, tuple[socket.socket, threading.Thread]] = {}
        self._ids = itertools.count(1)
        self._connections_opened = 0
        self._requests_received = 0
        self._open = 0
        self._max_open = 0
        self._counted_closed: set[int] = set()
        self._received: list[ReceivedRequest] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeServer:
        """Listen and start accepting connections; returns the server itself."""
        if self._stopped:
            raise RuntimeError(
                "this FakeServer was stopped and cannot be restarted; create a new one"
            )
        if self._listener is not None:
            raise RuntimeError("this FakeServer is already running")
        if self.tls:
            self._setup_tls()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            listener = socket.create_server(
                (self.host, self._requested_port), family=family, backlog=128
            )
        except OSError:
            self._remove_ca()
            raise
        listener.settimeout(_POLL)
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"FakeServer-accept-{self._port}", daemon=True
        )
        self._accept_thread.start()
        logger.debug("fake server listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, and wait (bounded) for the threads."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        if self._listener is not None:
            # shutdown() wakes a blocked accept() at once on Linux; elsewhere the poll does.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._listener.close()
        with self._cond:
            connections = list(self._connections.values())
        for sock, _ in connections:
            # The plain socket method, also on a TLS socket: it wakes a blocked read at once
            # without touching the TLS state another thread is using.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        deadline = time.monotonic() + _JOIN_TIMEOUT
        threads = [thread for _, thread in connections]
        if self._accept_thread is not None:
            threads.append(self._accept_thread)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.debug("fake server: thread %s did not stop in time", thread.name)
        self._remove_ca()

    close = stop

    def __enter__(self) -> FakeServer:
        if self._listener is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _setup_tls(self) -> None:
        try:
            import trustme
        except ImportError:
            raise ImportError(
                "FakeServer(tls=True) needs the 'trustme' package: pip install 'datawrapper[tls]'"
            ) from None
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self._ca_dir = tempfile.mkdtemp(prefix="datawrapper-fake-ca-")
        path = Path(self._ca_dir) / "ca.pem"
        ca.cert_pem.write_to_path(str(path))
        self._ca = ca
        self._ca_path = str(path)
        self._ssl_context = context

    def _remove_ca(self) -> None:
        if self._ca_dir is not None:
            shutil.rmtree(self._ca_dir, ignore_errors=True)
            self._ca_dir = None

    # ------------------------------------------------------------------ properties

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._port is None:
            raise RuntimeError(
                "the FakeServer is not started: call start() or use it in a with block"
            )
        return self._port

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:54321`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def ca_path(self) -> str:
        """The PEM file of the CA that signed the server certificate (pass it as ``verify=``)."""
        if not self.tls:
            raise RuntimeError("this FakeServer serves plain HTTP; create it with tls=True")
        if self._ca_path is None:
            raise RuntimeError(
                "the FakeServer is not started: call start() or use it in a with block"
            )
        return self._ca_path

    @property
    def ca(self) -> Any:
        """The ``trustme.CA`` that signed the server certificate (e.g. for ``configure_trust``)."""
        _ = self.ca_path  # raises the explanatory error when there is no CA
        return self._ca

    @property
    def connections_opened(self) -> int:
        """How many connections were accepted."""
        with self._cond:
            return self._connections_opened

    @property
    def requests_received(self) -> int:
        """How many requests were read completely."""
        with self._cond:
            return self._requests_received

    @property
    def open_connections(self) -> int:
        """How many connections are open right now."""
        with self._cond:
            return self._open

    @property
    def max_concurrent_connections(self) -> int:
        """The largest number of connections that were open at the same time."""
        with self._cond:
            return self._max_open

    @property
    def received(self) -> list[ReceivedRequest]:
        """Every request received, in arrival order (a copy)."""
        with self._cond:
            return list(self._received)

    def reset_counters(self) -> None:
        """Zero the counters and forget :attr:`received`; the high-water mark restarts at the open count."""
        with self._cond:
            self._connections_opened = 0
            self._requests_received = 0
            self._max_open = self._open
            self._received.clear()

    def wait_for_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no connection is open (e.g. after a client closed its pool); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._open == 0, timeout)

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"<FakeServer {where} connections={self.connections_opened} requests={self.requests_received}>"

    # ------------------------------------------------------------------ accepting

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if not self._stopping.is_set():
                    logger.debug("fake server: accept failed: %r", exc)
                    time.sleep(_POLL)
                continue
            with self._cond:
                if self._stopping.is_set():
                    sock.close()
                    break
                conn_id = next(self._ids)
                self._connections_opened += 1
                self._open += 1
                self._max_open = max(self._max_open, self._open)
                thread = threading.Thread(
                    target=self._serve_connection,
                    args=(sock, conn_id),
                    name=f"FakeServer-conn-{conn_id}",
                    daemon=True,
                )
                self._connections[conn_id] = (sock, thread)
                # Started under the lock, so stop() never sees a registered, unstarted thread.
                thread.start()

    def _serve_connection(self, sock: socket.socket, conn_id: int) -> None:
        try:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl_context is not None:
                sock.settimeout(_HANDSHAKE_TIMEOUT)
                tls_sock = self._ssl_context.wrap_socket(
                    sock, server_side=True, do_handshake_on_connect=False
                )
                with self._cond:
                    self._connections[conn_id] = (tls_sock, self._connections[conn_id][1])
                sock = tls_sock
                tls_sock.do_handshake()
            _Connection(self, sock, conn_id).serve()
        except (_Closed, OSError, ssl.SSLError) as exc:
            logger.debug("fake server: connection %d ended: %r", conn_id, exc)
        except Exception:
            logger.exception("fake server: connection %d failed", conn_id)
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            with self._cond:
                self._connections.pop(conn_id, None)
            self._count_closed(conn_id, final=True)

    def _count_closed(self, conn_id: int, *, final: bool = False) -> None:
        """Count connection ``conn_id`` as closed, once, as soon as its socket is closed.

        A fault closes the socket before the connection's thread ends (``final=False``); the
        thread's end (``final=True``) then only forgets the id.
        """
        with self._cond:
            if conn_id in self._counted_closed:
                if final:
                    self._counted_closed.discard(conn_id)
                return
            if not final:
                self._counted_closed.add(conn_id)
            self._open -= 1
            self._cond.notify_all()

    def _record(self, received: ReceivedRequest) -> None:
        with self._cond:
            self._requests_received += 1
            self._received.append(received)


class _Connection:
    """Serves the requests of one connection, one after another."""

    def __init__(self, server: FakeServer, sock: socket.socket, conn_id: int) -> None:
        self.server = server
        self.sock = sock
        self.conn_id = conn_id
        self.buf = bytearray()
        self.responses = 0

    # ------------------------------------------------------------------ reading

    def _recv(self, timeout: float) -> bytes:
        """Some bytes, b"" at EOF; raises _Closed after ``timeout`` seconds or when stopping."""
        deadline = time.monotonic() + timeout
        stopping = self.server._stopping
        while True:
            if stopping.is_set():
                raise _Closed("the server is stopping")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Closed(f"no data for {timeout:g} s")
            self.sock.settimeout(min(_POLL, remaining))
            try:
                return self.sock.recv(65536)
            except TimeoutError:
                continue

    def _fill(self, timeout: float) -> None:
        data = self._recv(timeout)
        if not data:
            raise _Closed("the client closed the connection mid-request")
        self.buf += data

    def _read_head(self) -> bytes | None:
        """The request head up to the blank line, or None when the client closed while idle."""
        timeout = self.server.keep_alive_timeout
        while True:
            # Tolerate blank lines before a request line (RFC 9112, section 2.2).
            while self.buf[:2] == b"\r\n" or self.buf[:1] == b"\n":
                del self.buf[: 2 if self.buf[:1] == b"\r" else 1]
            for end in (b"\r\n\r\n", b"\n\n"):
                index = self.buf.find(end)
                if index >= 0:
                    head = bytes(self.buf[:index])
                    del self.buf[: index + len(end)]
                    return head
            if len(self.buf) > _MAX_HEAD:
                raise _BadRequest(431, "the request head is larger than 64 KiB")
            if self.buf:
                self._fill(_IO_TIMEOUT)
                continue
            try:
                data = self._recv(timeout)
            except _Closed:
                return None
            if not data:
                return None
            self.buf += data

    def _read_line(self) -> bytes:
        while True:
            index = self.buf.find(b"\n")
            if index >= 0:
                line = bytes(self.buf[:index]).rstrip(b"\r")
                del self.buf[: index + 1]
                return line
            if len(self.buf) > _MAX_HEAD:
                raise _BadRequest(400, "a chunk-size line is too long")
            self._fill(_IO_TIMEOUT)

    def _read_exact(self, size: int) -> bytes:
        while len(self.buf) < size:
            self._fill(_IO_TIMEOUT)
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_text = self._read_line().split(b";", 1)[0].strip()
            try:
                if not size_text or size_text.startswith((b"-", b"+", b"0x", b"0X")):
                    raise ValueError
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(400, f"invalid chunk size {size_text[:20]!r}") from None
            if size == 0:
                while self._read_line():  # trailer fields, up to the blank line
                    pass
                return bytes(body)
            if len(body) + size > _MAX_BODY:
                raise _BadRequest(413, "the request body is too large")
            body += self._read_exact(size)
            if self._read_line():
                raise _BadRequest(400, "a chunk is longer than its chunk size")

    # ------------------------------------------------------------------ writing

    def _send(self, data: bytes) -> None:
        self.sock.settimeout(_IO_TIMEOUT)
        self.sock.sendall(data)

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.server._stopping.wait(seconds):
            raise _Closed("the server is stopping")

    def _client_gone(self) -> bool:
        """Whether the client has closed its side (reads ahead without blocking)."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            self.sock.setblocking(False)
            try:
                data = self.sock.recv(65536)
            finally:
                self.sock.settimeout(_IO_TIMEOUT)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (OSError, ValueError):
            return True
        if not data:
            return True
        self.buf += data
        return False

    @staticmethod
    def _head(response: Response, *, content_length: int | None, close: bool) -> bytes:
        code = response.status_code
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Unknown Status"
        lines = [f"HTTP/1.1 {code} {reason}"]
        for name, value in response.headers.raw():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                lines.append(f"{name}: {value}")
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        if close:
            lines.append("Connection: close")
        text = "\r\n".join(lines) + "\r\n\r\n"
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            return text.encode("utf-8")

    def _write_response(self, response: Response, *, head_only: bool, close: bool) -> None:
        code = response.status_code
        if code < 200 or code in (204, 304):
            self._send(self._head(response, content_length=None, close=close))
            return
        body = response.content
        head = self._head(response, content_length=len(body), close=close)
        self._send(head if head_only else head + body)

    # ------------------------------------------------------------------ serving

    def serve(self) -> None:
        while not self.server._stopping.is_set():
            try:
                head = self._read_head()
                if head is None:
                    return
                received, request, close = self._parse(head)
            except _BadRequest as exc:
                logger.debug("fake server: bad request on connection %d: %s", self.conn_id, exc)
                with contextlib.suppress(OSError):
                    self._write_response(
                        boom_response(exc.status, f"fake server: {exc}"),
                        head_only=False,
                        close=True,
                    )
                return
            self.server._record(received)
            if not self._respond(received, request, close):
                return
            if close:
                return

    def _parse(self, head: bytes) -> tuple[ReceivedRequest, Request | None, bool]:
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400, f"malformed request line {lines[0][:100]!r}")
        method, target, version = parts
        if not method or not set(method) <= _TOKEN_CHARS or not target:
            raise _BadRequest(400, f"malformed request line {lines[0][:100]!r}")
        if len(lines) - 1 > _MAX_HEADERS:
            raise _BadRequest(431, f"more than {_MAX_HEADERS} header fields")
        pairs: list[tuple[str, str]] = []
        for raw in lines[1:]:
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep or not name or not set(name) <= _TOKEN_CHARS:
                raise _BadRequest(400, f"malformed header line {raw[:100]!r}")
            pairs.append((name, value.strip(" \t")))
        headers = Headers(pairs)

        connection = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)

        transfer = headers.get("transfer-encoding", "").lower()
        if transfer:
            if [t.strip() for t in transfer.split(",")][-1] != "chunked":
                raise _BadRequest(501, f"unsupported Transfer-Encoding {transfer!r}")
            self._continue(headers, version)
            body = self._read_chunked()
        elif "content-length" in headers:
            values = {v.strip() for v in headers.get_list("content-length")}
            if len(values) != 1 or not next(iter(values)).isdigit():
                raise _BadRequest(400, f"invalid Content-Length {headers['content-length']!r}")
            length = int(next(iter(values)))
            if length > _MAX_BODY:
                raise _BadRequest(413, "the request body is too large")
            if length:
                self._continue(headers, version)
            body = self._read_exact(length)
        else:
            body = b""

        if target.startswith("/"):
            path, _, query = target.partition("?")
            query = query.partition("#")[0]
        elif "://" in target:
            split = urlsplit(target)
            path, query = split.path or "/", split.query
        else:
            path, query = target, ""
        received = ReceivedRequest(
            method=method,
            target=target,
            path=path,
            query=query,
            headers=tuple(pairs),
            body=body,
            connection_id=self.conn_id,
            http_version=version,
        )
        return received, self._request(method, path, query, headers, body), close

    def _continue(self, headers: Headers, version: str) -> None:
        if version != "HTTP/1.0" and headers.get("expect", "").lower() == "100-continue":
            self._send(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _request(
        self, method: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Request | None:
        scheme = "https" if self.server.tls else "http"
        suffix = path + (f"?{query}" if query else "")
        if not suffix.startswith("/"):
            suffix = "/" + suffix.lstrip("*")
        server_authority = urlsplit(self.server.url).netloc
        for authority in (headers.get("host", "").strip(), server_authority):
            if not authority:
                continue
            try:
                return Request(
                    method=method,
                    url=f"{scheme}://{authority}{suffix}",
                    headers=headers,
                    content=body,
                )
            except ValueError:
                continue
        return None

    def _respond(self, received: ReceivedRequest, request: Request | None, close: bool) -> bool:
        """Answer one request; False when the connection must end."""
        rtt = self.server.rtt
        self._wait(rtt * (2 if self.responses == 0 else 1))
        self.responses += 1
        head_only = received.method == "HEAD"
        if request is None:
            self._write_response(
                boom_response(
                    400, f"fake server: cannot handle method {received.method!r} or its URL"
                ),
                head_only=head_only,
                close=True,
            )
            return False
        fault = self.server.faults.next_for(received.method, received.path)
        if fault is not None:
            logger.debug(
                "fake server: %s %s on connection %d: %s",
                received.method,
                redact_url(received.target),
                self.conn_id,
                fault.describe(),
            )
        if fault is None:
            response = self._call(request)
        elif fault.kind == "status":
            response = fault.response()
        elif fault.kind == "delay":
            if fault.process:
                response = self._call(request)
                self._wait(fault.seconds)
            else:
                self._wait(fault.seconds)
                if self._client_gone():
                    logger.debug(
                        "fake server: the client left during the delay; request not processed"
                    )
                    return False
                response = self._call(request)
        elif fault.kind == "slow_body":
            response = self._call(request)
            close = close or self._wants_close(response)
            self._send(self._head(response, content_length=len(response.content), close=close))
            if not head_only:
                for piece in split_body(response.content, fault.chunks):
                    self._wait(fault.seconds)
                    self._send(piece)
            return not close
        else:
            response = self._call(request) if fault.process else fault.response()
            self._break(fault, response, head_only)
            return False
        close = close or self._wants_close(response)
        self._write_response(response, head_only=head_only, close=close)
        return not close

    def _call(self, request: Request) -> Response:
        try:
            return call_app(self.server.app, request)
        except TransportError as exc:
            logger.error("fake server: the application raised %r", exc)
            return boom_response(
                500, f"fake server: the application raised {type(exc).__name__}: {exc}"
            )

    @staticmethod
    def _wants_close(response: Response) -> bool:
        return "close" in response.headers.get("connection", "").lower()

    def _break(self, fault: Fault, response: Response, head_only: bool) -> None:
        """Apply a fault that ends the connection without a complete response."""
        if fault.kind == "reset":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
            self.server._count_closed(self.conn_id)
            return
        if fault.kind == "close_after_headers":
            length = max(len(response.content), 1)
            self._send(self._head(response, content_length=length, close=False))
        elif fault.kind == "truncated_body":
            announced, sent = cut_short_lengths(response.content)
            head = self._head(response, content_length=announced, close=False)
            self._send(head if head_only else head + response.content[:sent])
        # close_before_response and the two above: a clean close (FIN).
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        self.sock.close()
        self.server._count_closed(self.conn_id)
