"""A lean HTTP/1.1 keep-alive server with canned Datawrapper answers, for CPU measurements.

At RTT 0 every microsecond the server spends is added to the per-request time of every
client alike and hides the difference between them, so the CPU benchmark talks to this
server instead of the full fake API: it parses just enough HTTP (request line, headers,
``Content-Length`` body) and answers from a table of pre-built responses:

- ``POST /v3/charts`` -> 201 with a real chart JSON (made once by ``FakeDatawrapperAPI``);
- ``PUT .../data`` -> 204; ``POST .../publish`` -> 200 publish JSON;
- ``GET .../export/...`` -> 200 a small PNG; any other ``GET`` -> 200 the chart JSON.

One thread per connection; optional TLS with a ``trustme`` CA. Counts connections.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import tempfile
import threading
from pathlib import Path

__all__ = ["CannedServer", "canned_bodies"]

_POLL = 0.5


def canned_bodies() -> dict[str, tuple[int, str, bytes]]:
    """route -> (status, content type, body), built from the package's fake API."""
    from datawrapper.testing import FakeDatawrapperAPI
    from datawrapper.transport import Headers, Request

    api = FakeDatawrapperAPI(tokens=["bench-token"], id_seed=1)
    auth = Headers([("Authorization", "Bearer bench-token"), ("Content-Type", "application/json")])
    base = "http://127.0.0.1/v3/charts"
    chart = api(Request("POST", base, auth, json.dumps({"title": "canned"}).encode()))
    chart_id = chart.json()["id"]
    csv_headers = auth.merged({"Content-Type": "text/csv"})
    api(Request("PUT", f"{base}/{chart_id}/data", csv_headers, b"a,b\n1,2\n"))
    published = api(Request("POST", f"{base}/{chart_id}/publish", auth))
    png = api(Request("GET", f"{base}/{chart_id}/export/png?width=600", auth))
    json_type = "application/json; charset=utf-8"
    return {
        "create": (201, json_type, chart.content),
        "get": (200, json_type, chart.content),
        "publish": (200, json_type, published.content),
        "export": (200, "image/png", png.content),
        "put": (204, "", b""),
    }


def _response(status: int, content_type: str, body: bytes) -> bytes:
    reason = {200: "OK", 201: "Created", 204: "No Content"}[status]
    lines = [f"HTTP/1.1 {status} {reason}", "Server: canned"]
    if status != 204:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body if status != 204 else b"")


class CannedServer:
    """The lean server; ``url`` once started. ``tls=True`` serves HTTPS (``ca_path``)."""

    def __init__(self, *, tls: bool = False) -> None:
        self.tls = tls
        self._answers = {k: _response(*v) for k, v in canned_bodies().items()}
        self._listener: socket.socket | None = None
        self._context: ssl.SSLContext | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.ca_path: str | None = None
        self._lock = threading.Lock()
        self.connections_opened = 0
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        assert self._listener is not None
        port = self._listener.getsockname()[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    def start(self) -> CannedServer:
        if self.tls:
            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cert.configure_cert(context)
            self._context = context
            self._tmp = tempfile.TemporaryDirectory(prefix="bench-ca-")
            self.ca_path = str(Path(self._tmp.name) / "ca.pem")
            ca.cert_pem.write_to_path(self.ca_path)
        listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        listener.settimeout(_POLL)
        self._listener = listener
        threading.Thread(target=self._accept, name="canned-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections_opened += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _answer(self, method: bytes, target: bytes) -> bytes:
        if method == b"PUT":
            return self._answers["put"]
        if method == b"POST":
            return self._answers["publish" if target.endswith(b"/publish") else "create"]
        if b"/export/" in target:
            return self._answers["export"]
        return self._answers["get"]

    def _serve(self, sock: socket.socket) -> None:
        try:
            self._serve_requests(sock)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _serve_requests(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(60)
        conn: socket.socket = sock
        if self._context is not None:
            conn = self._context.wrap_socket(sock, server_side=True)
        buf = b""
        while True:
            end = buf.find(b"\r\n\r\n")
            while end < 0:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                end = buf.find(b"\r\n\r\n")
            head, buf = buf[:end], buf[end + 4 :]
            first, _, rest = head.partition(b"\r\n")
            method, target, _ = first.split(b" ", 2)
            length = 0
            close = False
            for line in rest.split(b"\r\n"):
                name, _, value = line.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value)
                elif lowered == b"connection" and b"close" in value.lower():
                    close = True
            while len(buf) < length:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            buf = buf[length:]
            conn.sendall(self._answer(method, target))
            if close:
                return
