"""The WAN test bed: a TLS 1.3 fake Datawrapper API behind the latency proxy, in child processes.

The server (``datawrapper.testing.FakeServer`` serving ``FakeDatawrapperAPI``) and the proxy
(:mod:`wanproxy`) each run in a process of their own, so that the clients measured in the
benchmark process neither compete with them for the GIL nor disturb their timing. Each child
is driven over a pipe (``stats``, ``reset``, ``stop``).

::

    with WanTestBed(rtt=0.05) as bed:
        client = Datawrapper(TOKEN, base_url=bed.url, verify=bed.ca_path)
        bed.reset()
        ...
        print(bed.connections_opened())
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import sys
from typing import Any

TOKEN = "bench-token"
_START_TIMEOUT = 60.0
_CALL_TIMEOUT = 30.0


# --------------------------------------------------------------------------- child processes


def _serve_forever(conn: multiprocessing.connection.Connection, handlers: dict[str, Any]) -> None:
    while True:
        try:
            command = conn.recv()
        except (EOFError, OSError):
            return
        if command == "stop":
            conn.send({"stopped": True})
            return
        try:
            conn.send(handlers[command]())
        except Exception as exc:  # report instead of dying silently
            conn.send({"error": f"{type(exc).__name__}: {exc}"})


def _api_server_main(conn: multiprocessing.connection.Connection, tls: bool) -> None:
    sys.setswitchinterval(0.0005)
    from datawrapper.testing import FakeDatawrapperAPI, FakeServer

    api = FakeDatawrapperAPI(tokens=[TOKEN])
    server = FakeServer(api, tls=tls, keep_alive_timeout=300).start()
    conn.send({"url": server.url, "port": server.port, "ca_path": server.ca_path if tls else None})

    def stats() -> dict[str, int]:
        return {
            "connections": server.connections_opened,
            "requests": server.requests_received,
            "max_concurrent": server.max_concurrent_connections,
            "charts": api.created_count,
        }

    def reset() -> dict[str, int]:
        server.reset_counters()
        server.faults.clear()
        api.reset()
        return {}

    try:
        _serve_forever(conn, {"stats": stats, "reset": reset})
    finally:
        server.stop()


def _canned_server_main(conn: multiprocessing.connection.Connection, tls: bool) -> None:
    sys.setswitchinterval(0.0005)
    from fastserver import CannedServer

    server = CannedServer(tls=tls).start()
    conn.send({"url": server.url, "ca_path": server.ca_path})

    def stats() -> dict[str, int]:
        return {"connections": server.connections_opened}

    def reset() -> dict[str, int]:
        server.connections_opened = 0
        return {}

    try:
        _serve_forever(conn, {"stats": stats, "reset": reset})
    finally:
        server.stop()


def _proxy_main(
    conn: multiprocessing.connection.Connection, upstream_port: int, rtt: float
) -> None:
    sys.setswitchinterval(0.0005)
    from wanproxy import LatencyProxy

    proxy = LatencyProxy(("127.0.0.1", upstream_port), rtt=rtt).start()
    conn.send({"port": proxy.port})

    def stats() -> dict[str, int]:
        return {"connections": proxy.connections_opened, "open": proxy.open_connections}

    def reset() -> dict[str, int]:
        proxy.reset_counters()
        return {}

    try:
        _serve_forever(conn, {"stats": stats, "reset": reset})
    finally:
        proxy.stop()


class Child:
    """A service in a spawned process, controlled over a pipe."""

    def __init__(self, target: Any, *args: Any, name: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child_conn, *args), name=name, daemon=True)
        self.process.start()
        child_conn.close()
        if not self._conn.poll(_START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"{name} did not start within {_START_TIMEOUT:g} s")
        self.info: dict[str, Any] = self._conn.recv()

    def call(self, command: str) -> dict[str, Any]:
        self._conn.send(command)
        if not self._conn.poll(_CALL_TIMEOUT):
            raise RuntimeError(f"{self.process.name} did not answer {command!r}")
        answer: dict[str, Any] = self._conn.recv()
        if "error" in answer:
            raise RuntimeError(f"{self.process.name} failed on {command!r}: {answer['error']}")
        return answer

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self._conn.send("stop")
                self._conn.poll(5)
            except (OSError, BrokenPipeError):
                pass
            self.process.join(5)
            if self.process.is_alive():
                self.process.terminate()  # our own child, by its handle
                self.process.join(5)
        self._conn.close()


# --------------------------------------------------------------------------- the test bed


class WanTestBed:
    """Fake API server (TLS by default) + latency proxy, each in its own process.

    ``url`` is the proxy's address (what clients use); ``direct_url`` the server's own.
    ``rtt=0`` still routes through the proxy (no added delay). ``canned=True`` uses the lean
    :mod:`fastserver` instead of the full fake API.
    """

    def __init__(
        self, *, rtt: float, tls: bool = True, canned: bool = False, proxy: bool = True
    ) -> None:
        self.rtt = rtt
        self.tls = tls
        self.canned = canned
        self.use_proxy = proxy
        self._server: Child | None = None
        self._proxy: Child | None = None

    def start(self) -> WanTestBed:
        target = _canned_server_main if self.canned else _api_server_main
        self._server = Child(target, self.tls, name="bench-server")
        if self.use_proxy:
            port = int(self._server.info["url"].rsplit(":", 1)[1])
            self._proxy = Child(_proxy_main, port, self.rtt, name="bench-proxy")
        return self

    def stop(self) -> None:
        for child in (self._proxy, self._server):
            if child is not None:
                child.stop()

    def __enter__(self) -> WanTestBed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def direct_url(self) -> str:
        assert self._server is not None
        url: str = self._server.info["url"]
        return url

    @property
    def url(self) -> str:
        if self._proxy is None:
            return self.direct_url
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._proxy.info['port']}"

    @property
    def ca_path(self) -> str | None:
        assert self._server is not None
        path: str | None = self._server.info["ca_path"]
        return path

    def reset(self) -> None:
        """Zero the connection counters and forget the server's charts."""
        assert self._server is not None
        self._server.call("reset")
        if self._proxy is not None:
            self._proxy.call("reset")

    def connections_opened(self) -> int:
        """Connections opened by clients since the last :meth:`reset`."""
        child = self._proxy or self._server
        assert child is not None
        return int(child.call("stats")["connections"])

    def server_stats(self) -> dict[str, Any]:
        assert self._server is not None
        return self._server.call("stats")
