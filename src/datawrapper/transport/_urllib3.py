""":class:`Urllib3Transport`: one ``urllib3.PoolManager``, retries and redirects off.

Also home of :func:`map_urllib3_error`, which the requests backend shares (requests sends
through urllib3, so most of its failures are urllib3's underneath).
"""

from __future__ import annotations

import functools
import http.client
import os
import queue
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from urllib3 import exceptions as u3

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    DatawrapperError,
    DecodingError,
    InvalidRequestError,
    NetworkError,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TLSError,
    TransportError,
    WriteError,
    WriteTimeout,
)
from ._base import PooledTransport, VerifyTypes, resolve_verify, warn_if_insecure
from ._config import PoolConfig, Timeout
from ._models import Headers, Request, Response

__all__ = ["Urllib3Transport", "map_urllib3_error"]

_VERSIONS = {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost error a wrapper carries (``MaxRetryError.reason``, ``ProtocolError`` args)."""
    for _ in range(8):
        if isinstance(exc, u3.MaxRetryError) and isinstance(exc.reason, BaseException):
            exc = exc.reason
            continue
        if isinstance(exc, u3.ProtocolError) and len(exc.args) > 1:
            inner = exc.args[1]
            if isinstance(inner, BaseException):
                exc = inner
                continue
        break
    return exc


def _in_tls_handshake(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it wraps, was raised inside ssl's TLS handshake."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < 16:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_name == "do_handshake" and frame.f_globals.get("__name__") == "ssl":
                return True
            tb = tb.tb_next
        for inner in (error.__cause__, error.__context__, getattr(error, "reason", None)):
            if isinstance(inner, BaseException):
                pending.append(inner)
    return False


def close_pools(manager: urllib3.PoolManager) -> None:
    """Close the idle connections of every pool of ``manager`` now, then forget the pools.

    ``PoolManager.clear()`` alone only forgets them (urllib3 2.x): their connections close
    when a pool is garbage-collected, which an exception that still refers to it through its
    traceback can put off for as long as the caller keeps that exception.
    """
    for key in list(manager.pools.keys()):
        pool = manager.pools.get(key)
        if pool is not None:
            pool.close()
    manager.clear()


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def map_urllib3_error(exc: BaseException, request: Request) -> DatawrapperError:
    """Our exception for an error raised by urllib3 (or the sockets beneath it)."""
    cause = _root_cause(exc)
    where = f"{request.method} {request.host}"
    if isinstance(cause, (u3.NewConnectionError, ConnectionRefusedError)):
        # NewConnectionError subclasses ConnectTimeoutError for history's sake: test it first.
        return ConnectError(f"could not connect ({where}): {_describe(cause)}", request=request)
    if isinstance(cause, u3.ConnectTimeoutError):
        return ConnectTimeout(f"connect timed out ({where}): {_describe(cause)}", request=request)
    if isinstance(cause, u3.ReadTimeoutError):
        if _in_tls_handshake(exc):
            # urllib3 reports a stalled TLS handshake as a read timeout (with the connect
            # limit); nothing was sent yet, as with httpx's ConnectTimeout.
            return ConnectTimeout(
                f"connect timed out in the TLS handshake ({where}): {_describe(cause)}",
                request=request,
            )
        return ReadTimeout(f"read timed out ({where}): {_describe(cause)}", request=request)
    if isinstance(cause, (u3.SSLError, ssl.SSLError, ssl.CertificateError)):
        return TLSError(f"TLS failed ({where}): {_describe(cause)}", request=request)
    if isinstance(cause, u3.ProxyError):
        return ConnectError(f"proxy failed ({where}): {_describe(cause)}", request=request)
    if isinstance(cause, u3.EmptyPoolError):
        return PoolTimeout(f"no free connection ({where})", request=request)
    if isinstance(cause, u3.DecodeError):
        return DecodingError(
            f"could not decode the body ({where}): {_describe(cause)}", request=request
        )
    if isinstance(cause, u3.LocationParseError):
        return InvalidRequestError(f"invalid URL for {request.method}: {_describe(cause)}")
    if isinstance(cause, (socket.timeout, TimeoutError)):
        # urllib3 classifies connect and read timeouts itself; one it did not came from sending.
        return WriteTimeout(f"write timed out ({where}): {_describe(cause)}", request=request)
    if isinstance(cause, BrokenPipeError):
        return WriteError(f"connection broken while sending ({where})", request=request)
    if isinstance(cause, http.client.RemoteDisconnected):
        # A subclass of ConnectionResetError, but a clean close (FIN), not a reset (RST).
        return RemoteProtocolError(
            f"the server closed the connection without a response ({where})", request=request
        )
    if isinstance(cause, ConnectionResetError):
        return ReadError(f"connection reset by the server ({where})", request=request)
    if isinstance(
        cause,
        (
            http.client.HTTPException,
            u3.IncompleteRead,
            u3.InvalidChunkLength,
            u3.ProtocolError,
            u3.ResponseError,
            u3.HeaderParsingError,
        ),
    ):
        return RemoteProtocolError(
            f"the server broke the connection ({where}): {_describe(cause)}", request=request
        )
    if isinstance(cause, OSError):
        return NetworkError(f"network error ({where}): {_describe(cause)}", request=request)
    return TransportError(
        f"transport failed ({where}): {type(cause).__name__}: {_describe(cause)}", request=request
    )


@contextmanager
def _map_exceptions(request: Request) -> Iterator[None]:
    try:
        yield
    except (u3.HTTPError, OSError, http.client.HTTPException) as exc:
        raise map_urllib3_error(exc, request) from exc


def read_body_until(
    raw: urllib3.BaseHTTPResponse, ends_at: float, read: float, request: Request
) -> bytes:
    """The whole body of the unread ``raw``, or ReadTimeout once ``ends_at`` has passed.

    ``ends_at`` is on the ``time.perf_counter`` clock. Before each read the socket's timeout
    is shrunk to the time left, so a body that trickles in cannot outlive the attempt's
    ``Timeout.total``. The connection goes back to the pool only when the body was read whole.
    """
    chunks: list[bytes] = []
    done = False
    try:
        while True:
            left = ends_at - time.perf_counter()
            if left <= 0:
                raise ReadTimeout(
                    "the response body did not finish within the attempt's total limit "
                    f"({request.method} {request.host})",
                    request=request,
                )
            sock = getattr(getattr(raw, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(min(read, left))
            chunk = raw.read1(65536)
            if not chunk:
                done = True
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        if not done:
            raw.close()
        raw.release_conn()


def _put_or_close(pool: queue.LifoQueue[Any] | None, conn: Any) -> None:
    """Return ``conn`` to ``pool``, or close it when the pool already holds its fill."""
    if pool is not None:
        try:
            pool.put(conn, block=False)
            return
        except queue.Full:
            pass
    if conn is not None:
        conn.close()


class _KeepalivePool(urllib3.HTTPConnectionPool):
    """A pool whose size is the number of idle connections kept (``max_keepalive_connections``).

    Extra connections (our slot queue lets up to ``max_connections`` be in flight) are closed
    when they come back, without urllib3's "Connection pool is full" warning: here that is
    the configured behaviour, not a problem.
    """

    def _put_conn(self, conn: Any) -> None:
        _put_or_close(self.pool, conn)


class _KeepaliveHTTPSPool(urllib3.HTTPSConnectionPool):
    """The HTTPS twin of :class:`_KeepalivePool`."""

    def _put_conn(self, conn: Any) -> None:
        _put_or_close(self.pool, conn)


def keepalive_pools(manager: urllib3.PoolManager) -> None:
    """Make ``manager`` build pools that keep at most their size of idle connections quietly."""
    manager.pool_classes_by_scheme = {"http": _KeepalivePool, "https": _KeepaliveHTTPSPool}


@functools.lru_cache(maxsize=64)
def urllib3_timeout(connect: float, read: float, total: float | None) -> urllib3.Timeout:
    """A shared ``urllib3.Timeout`` for these limits (urllib3 clones it for every request)."""
    return urllib3.Timeout(connect=connect, read=read, total=total)


class Urllib3Transport(PooledTransport):
    """Sends each request once through one ``urllib3.PoolManager``.

    The pool holds ``PoolConfig.max_connections`` connections per host; retries and redirects
    are switched off (the retry engine above decides).
    """

    name = "urllib3"

    def __init__(self, *, pool: PoolConfig | None = None, verify: VerifyTypes = True) -> None:
        super().__init__(pool=pool or PoolConfig())
        resolved = resolve_verify(verify)
        warn_if_insecure(resolved)
        tls: dict[str, Any] = {}
        if resolved is False:
            tls["cert_reqs"] = "CERT_NONE"
        else:
            tls["cert_reqs"] = "CERT_REQUIRED"
            tls["ca_cert_dir" if os.path.isdir(resolved) else "ca_certs"] = str(resolved)
        # The pools keep max_keepalive_connections idle; our slot queue bounds the connections
        # in flight to max_connections (block=False lets a pool open more than it keeps).
        self._manager = urllib3.PoolManager(
            num_pools=10,
            maxsize=self.pool.max_keepalive_connections,
            block=False,
            retries=False,
            **tls,
        )
        keepalive_pools(self._manager)

    def _send(self, request: Request, timeout: Timeout) -> Response:
        # urllib3's total caps connect and the wait for the headers to what is left of it.
        limits = urllib3_timeout(timeout.connect, timeout.read, timeout.total)
        start = time.perf_counter()
        try:  # inline rather than _map_exceptions(): this is the per-request hot path
            raw = self._manager.urlopen(
                request.method,
                request.url,
                body=request.content or None,
                headers=request.headers.as_dict(),
                retries=False,
                redirect=False,
                timeout=limits,
                preload_content=timeout.total is None,
                decode_content=True,
            )
            if timeout.total is None:
                content = raw.data
            else:
                content = read_body_until(raw, start + timeout.total, timeout.read, request)
        except (u3.HTTPError, OSError, http.client.HTTPException) as exc:
            raise map_urllib3_error(exc, request) from exc
        return Response(
            status_code=raw.status,
            headers=Headers._trusted(raw.headers.items()),
            content=content,
            http_version=_VERSIONS.get(raw.version, "HTTP/1.1"),
            elapsed=time.perf_counter() - start,
            request=request,
        )

    def _drop_idle_connections(self) -> None:
        close_pools(self._manager)

    def _close(self) -> None:
        close_pools(self._manager)
