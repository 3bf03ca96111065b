"""A userspace WAN emulator: a TCP proxy that adds a round-trip time to every connection.

The kernel of the benchmark machine has no ``netem``, so latency is added here, in a proxy
between the client and a loopback server:

- every chunk of bytes is delivered ``rtt / 2`` after it arrived, in each direction;
- delays never add up: each direction has a FIFO of ``(due time, bytes)`` fed by a reader
  thread and emptied by a writer thread that sleeps until the head's due time. A chunk that
  arrives while an earlier one is waiting is due ``rtt / 2`` after its *own* arrival, so ten
  back-to-back chunks take ``rtt / 2``, not ten times that (what a single
  sleep-then-forward loop would do). Order within a direction is kept, as TCP does;
- the first client-to-server chunk of each new connection is held one extra ``rtt``, which
  stands for the TCP handshake (SYN, SYN-ACK) the loopback connect skipped.

So a request on a reused connection costs about 1 RTT, and one on a new TLS 1.3 connection
about 3 (TCP handshake, TLS handshake, request). The proxy counts the connections it accepts.

Run it alone: ``python benchmarks/wanproxy.py --upstream 127.0.0.1:8443 --rtt-ms 50``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import socket
import threading
import time

__all__ = ["LatencyProxy"]

_POLL = 0.2
_CHUNK = 65536


def _nodelay(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Direction:
    """One direction of one connection: a reader thread, a FIFO of due chunks, a writer thread."""

    def __init__(
        self, link: _Link, src: socket.socket, dst: socket.socket, delay: float, first_extra: float
    ) -> None:
        self.link = link
        self.src = src
        self.dst = dst
        self.delay = delay
        self.first_extra = first_extra
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.cond = threading.Condition()
        self.bytes = 0

    def start(self, name: str) -> None:
        threading.Thread(target=self._read, name=f"{name}-r", daemon=True).start()
        threading.Thread(target=self._write, name=f"{name}-w", daemon=True).start()

    def _read(self) -> None:
        extra = self.first_extra
        while True:
            try:
                data = self.src.recv(_CHUNK)
            except OSError:
                data = b""
            due = time.monotonic() + self.delay + extra
            extra = 0.0
            with self.cond:
                self.queue.append((due, data or None))
                self.cond.notify()
            if not data:
                return

    def _write(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                due, data = self.queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if data is None:
                with contextlib.suppress(OSError):
                    self.dst.shutdown(socket.SHUT_WR)
                self.link.direction_done()
                return
            try:
                self.dst.sendall(data)
                self.bytes += len(data)
            except OSError:
                self.link.abort()
                self.link.direction_done()
                return


class _Link:
    """A proxied connection: the client socket, the upstream socket, two directions."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self._lock = threading.Lock()
        self._open_directions = 2
        self.closed = threading.Event()

    def abort(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def direction_done(self) -> None:
        with self._lock:
            self._open_directions -= 1
            last = self._open_directions == 0
        if last:
            for sock in (self.client, self.upstream):
                with contextlib.suppress(OSError):
                    sock.close()
            self.closed.set()


class LatencyProxy:
    """A TCP proxy on 127.0.0.1 that adds ``rtt`` seconds of round trip to ``upstream``.

    ``handshake_rtts`` (1) is how many extra round trips the first client chunk of a new
    connection waits (the TCP handshake). Use as a context manager or ``start()``/``stop()``.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        rtt: float,
        host: str = "127.0.0.1",
        port: int = 0,
        handshake_rtts: float = 1.0,
    ) -> None:
        if rtt < 0 or handshake_rtts < 0:
            raise ValueError("rtt and handshake_rtts must be >= 0")
        self.upstream = upstream
        self.rtt = float(rtt)
        self.handshake_rtts = float(handshake_rtts)
        self.host = host
        self._requested_port = port
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._accepted = 0
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the proxy is not started")
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def connections_opened(self) -> int:
        """Connections accepted since the start (or the last :meth:`reset_counters`)."""
        with self._lock:
            return self._accepted

    @property
    def open_connections(self) -> int:
        with self._lock:
            self._links = [link for link in self._links if not link.closed.is_set()]
            return len(self._links)

    def reset_counters(self) -> None:
        with self._lock:
            self._accepted = 0

    def start(self) -> LatencyProxy:
        listener = socket.create_server((self.host, self._requested_port), backlog=256)
        listener.settimeout(_POLL)
        self._listener = listener
        self._thread = threading.Thread(
            target=self._accept_loop, name="wanproxy-accept", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.abort()
        if self._thread is not None:
            self._thread.join(2)

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        half = self.rtt / 2
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(_POLL)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            _nodelay(client)
            _nodelay(upstream)
            link = _Link(client, upstream)
            with self._lock:
                self._accepted += 1
                number = self._accepted
                self._links = [x for x in self._links if not x.closed.is_set()]
                self._links.append(link)
            _Direction(link, client, upstream, half, self.rtt * self.handshake_rtts).start(
                f"wanproxy-{number}-up"
            )
            _Direction(link, upstream, client, half, 0.0).start(f"wanproxy-{number}-down")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="host:port of the server")
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    with LatencyProxy((host, int(port)), rtt=args.rtt_ms / 1000, port=args.port) as proxy:
        print(f"proxy on 127.0.0.1:{proxy.port} -> {args.upstream}, RTT {args.rtt_ms:g} ms")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
