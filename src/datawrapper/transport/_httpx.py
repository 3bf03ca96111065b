""":class:`HttpxTransport`: one ``httpx.Client`` with ``Limits`` from :class:`PoolConfig`.

Needs the ``httpx`` extra: ``pip install 'datawrapper[httpx]'``.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

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

__all__ = ["HttpxTransport", "map_httpx_error"]


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, (ssl.SSLError, ssl.CertificateError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# Checked in order: the first class the error is an instance of decides.
_CLASSES: tuple[tuple[type[Exception], type[TransportError], str], ...] = (
    (httpx.ConnectTimeout, ConnectTimeout, "connect timed out"),
    (httpx.ReadTimeout, ReadTimeout, "read timed out"),
    (httpx.WriteTimeout, WriteTimeout, "write timed out"),
    (httpx.PoolTimeout, PoolTimeout, "no free connection"),
    (httpx.ProxyError, ConnectError, "proxy failed"),
    (httpx.ConnectError, ConnectError, "could not connect"),
    (httpx.ReadError, ReadError, "connection broken while reading"),
    (httpx.WriteError, WriteError, "connection broken while sending"),
    (httpx.RemoteProtocolError, RemoteProtocolError, "the server broke the connection"),
    (httpx.DecodingError, DecodingError, "could not decode the body"),
    (httpx.NetworkError, NetworkError, "network error"),
    (httpx.TimeoutException, ReadTimeout, "timed out"),
)


def map_httpx_error(exc: BaseException, request: Request) -> DatawrapperError:
    """Our exception for an error raised by httpx."""
    where = f"{request.method} {request.host}"
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError) and _is_tls_failure(exc):
        return TLSError(f"TLS failed ({where}): {detail}", request=request)
    for source, target, text in _CLASSES:
        if isinstance(exc, source):
            return target(f"{text} ({where}): {detail}", request=request)
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        return InvalidRequestError(f"httpx rejected the request ({where}): {detail}")
    if isinstance(exc, OSError):
        return NetworkError(f"network error ({where}): {detail}", request=request)
    return TransportError(
        f"transport failed ({where}): {type(exc).__name__}: {detail}", request=request
    )


@contextmanager
def _map_exceptions(request: Request) -> Iterator[None]:
    try:
        yield
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as exc:
        raise map_httpx_error(exc, request) from exc


class _ShrinkingLimits(dict[str, "float | None"]):
    """httpcore's per-request timeouts, each shrunk to the time left before ``ends_at``.

    httpcore looks a limit up before every socket operation, so each read waits at most until
    the attempt's total limit, however slowly the body trickles in.
    """

    def __init__(self, limits: dict[str, float | None], ends_at: float) -> None:
        super().__init__(limits)
        self._ends_at = ends_at

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key, default)
        left = max(self._ends_at - time.monotonic(), 0.001)
        return left if value is None else min(value, left)

    def __getitem__(self, key: str) -> float | None:
        value: float | None = self.get(key)
        return value


def _read_until(raw: httpx.Response, ends_at: float, request: Request, total: float) -> bytes:
    """The whole body of the streamed ``raw``, or ReadTimeout once ``ends_at`` has passed."""
    chunks = []
    for chunk in raw.iter_bytes():
        chunks.append(chunk)
        if time.monotonic() >= ends_at:
            raise ReadTimeout(
                f"the response body did not finish within the attempt's total limit of "
                f"{total:g} s ({request.method} {request.host})",
                request=request,
            )
    return b"".join(chunks)


class HttpxTransport(PooledTransport):
    """Sends each request once through one ``httpx.Client`` (HTTP/1.1).

    ``httpx.Limits`` come from :class:`PoolConfig` (httpx honours all of its fields natively);
    the client adds no default headers, ignores proxy and certificate environment variables
    (``verify`` is resolved once, the same way as on the other backends), keeps no cookies
    between requests and never follows redirects.
    """

    name = "httpx"

    def __init__(self, *, pool: PoolConfig | None = None, verify: VerifyTypes = True) -> None:
        super().__init__(pool=pool or PoolConfig())
        resolved = resolve_verify(verify)
        warn_if_insecure(resolved)
        context: ssl.SSLContext | bool
        if resolved is False:
            context = False
        elif isinstance(resolved, str) and os.path.isdir(resolved):
            context = ssl.create_default_context(capath=resolved)
        else:
            context = ssl.create_default_context(cafile=str(resolved))
        self._client = httpx.Client(
            verify=context,
            limits=httpx.Limits(
                max_connections=self.pool.max_connections,
                max_keepalive_connections=self.pool.max_keepalive_connections,
                keepalive_expiry=self.pool.keepalive_expiry,
            ),
            trust_env=False,
            follow_redirects=False,
        )

    def _send(self, request: Request, timeout: Timeout) -> Response:
        start = time.perf_counter()
        limits: dict[str, float | None] = {
            "connect": timeout.connect,
            "read": timeout.read,
            "write": timeout.write,
            "pool": timeout.pool,
        }
        ends_at = None
        if timeout.total is not None:
            ends_at = time.monotonic() + timeout.total
            limits = _ShrinkingLimits(limits, ends_at)
        with _map_exceptions(request):
            outgoing = httpx.Request(
                request.method,
                request.url,
                headers=list(request.headers.raw()),
                content=request.content or None,
                extensions={"timeout": limits},
            )
            if ends_at is None:
                raw = self._client.send(outgoing, follow_redirects=False)
                content = raw.content
            else:
                raw = self._client.send(outgoing, follow_redirects=False, stream=True)
                try:
                    content = _read_until(raw, ends_at, request, timeout.total or 0.0)
                finally:
                    raw.close()
        return Response(
            status_code=raw.status_code,
            headers=Headers._trusted(raw.headers.multi_items()),
            content=content,
            http_version=raw.http_version,
            elapsed=time.perf_counter() - start,
            request=request,
        )

    def _close(self) -> None:
        self._client.close()
