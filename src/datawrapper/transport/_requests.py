""":class:`RequestsTransport`, the default backend: one ``requests.Session``, adapter retries off."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import requests.adapters
from requests import exceptions as rex
from urllib3 import exceptions as u3

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    DatawrapperError,
    DecodingError,
    InvalidRequestError,
    ReadTimeout,
    RemoteProtocolError,
    TLSError,
    TransportError,
)
from ._base import PooledTransport, VerifyTypes, resolve_verify, warn_if_insecure
from ._config import PoolConfig, Timeout
from ._models import Headers, Request, Response
from ._urllib3 import _map_exceptions as _map_urllib3_exceptions
from ._urllib3 import (
    _root_cause,
    close_pools,
    keepalive_pools,
    map_urllib3_error,
    read_body_until,
    urllib3_timeout,
)

__all__ = ["RequestsTransport", "map_requests_error"]

_VERSIONS = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}


def map_requests_error(exc: BaseException, request: Request) -> DatawrapperError:
    """Our exception for an error raised by requests."""
    where = f"{request.method} {request.host}"
    # requests wraps urllib3's error as its first argument: classify that when it is there,
    # so that both urllib3-based backends agree on the class.
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
    if isinstance(exc, rex.SSLError):
        return TLSError(f"TLS failed ({where}): {exc}", request=request)
    if isinstance(exc, rex.ConnectTimeout):
        if inner is not None:
            mapped = map_urllib3_error(inner, request)
            if isinstance(mapped, ConnectError):  # a refused connection can surface this way
                return mapped
        return ConnectTimeout(f"connect timed out ({where}): {exc}", request=request)
    if isinstance(exc, rex.ReadTimeout):
        if inner is not None:  # urllib3's ReadTimeoutError: it may be a stalled TLS handshake
            return map_urllib3_error(inner, request)
        return ReadTimeout(f"read timed out ({where}): {exc}", request=request)
    if isinstance(exc, rex.ProxyError):
        return ConnectError(f"proxy failed ({where}): {exc}", request=request)
    if isinstance(exc, rex.ContentDecodingError):
        return DecodingError(f"could not decode the body ({where}): {exc}", request=request)
    if isinstance(exc, (rex.ChunkedEncodingError, rex.ConnectionError)) and inner is not None:
        return map_urllib3_error(inner, request)
    if isinstance(exc, rex.ChunkedEncodingError):
        return RemoteProtocolError(
            f"the server broke the connection ({where}): {exc}", request=request
        )
    if isinstance(exc, rex.ConnectionError):
        return ConnectError(f"could not connect ({where}): {exc}", request=request)
    if isinstance(exc, (rex.InvalidURL, rex.MissingSchema, rex.InvalidSchema, rex.InvalidHeader)):
        return InvalidRequestError(f"requests rejected the request: {exc}")
    if isinstance(exc, rex.RequestException):
        return TransportError(
            f"transport failed ({where}): {type(exc).__name__}: {exc}", request=request
        )
    return map_urllib3_error(exc, request)


@contextmanager
def _map_exceptions(request: Request) -> Iterator[None]:
    try:
        yield
    except (rex.RequestException, u3.HTTPError, http.client.HTTPException, OSError) as exc:
        # requests lets some urllib3 errors through unwrapped (HTTPAdapter.send re-raises
        # the urllib3 HTTPErrors it does not know), so those are caught too.
        # Chain from urllib3's root cause, not from requests' wrapper: the wrapper's text
        # (MaxRetryError) repeats the URL with its query, so a traceback would print
        # token-like query parameters unredacted.
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        raise map_requests_error(exc, request) from _root_cause(inner)


class RequestsTransport(PooledTransport):
    """Sends each request once through one ``requests.Session``.

    The session's adapter pool holds ``PoolConfig.max_connections`` connections per host and
    its retries are off. The session adds no default headers, ignores proxy and certificate
    environment variables (``verify`` is resolved once, the same way as on the other
    backends), and keeps no cookies between requests, like the other backends.
    """

    name = "requests"

    def __init__(self, *, pool: PoolConfig | None = None, verify: VerifyTypes = True) -> None:
        super().__init__(pool=pool or PoolConfig())
        self._verify = resolve_verify(verify)
        warn_if_insecure(self._verify)
        session = requests.Session()
        session.headers.clear()
        session.trust_env = False
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=10,
            pool_maxsize=self.pool.max_keepalive_connections,
            max_retries=0,
            pool_block=False,
        )
        keepalive_pools(adapter.poolmanager)  # extra connections close quietly, see _urllib3
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._adapter = adapter
        self._session = session

    def _send(self, request: Request, timeout: Timeout) -> Response:
        prepared = requests.Request(
            request.method,
            request.url,
            headers=request.headers.as_dict(),
            data=request.content or None,
        ).prepare()
        start = time.perf_counter()
        with _map_exceptions(request):
            raw = self._session.send(
                prepared,
                # urllib3's total caps connect and the wait for the headers to what is left;
                # HTTPAdapter.send passes a urllib3 Timeout through as it is.
                timeout=urllib3_timeout(  # type: ignore[arg-type]
                    timeout.connect, timeout.read, timeout.total
                ),
                verify=self._verify,
                allow_redirects=False,
                stream=True,
                proxies={},
            )
            try:
                if timeout.total is None:
                    content = raw.content
                else:
                    with _map_urllib3_exceptions(request):
                        content = read_body_until(
                            raw.raw, start + timeout.total, timeout.read, request
                        )
            except BaseException:
                # A body that fails to read or decode leaves its connection checked out of
                # the pool, where close() cannot reach it: close it here (urllib3 and httpx do).
                raw.close()
                raise
        version = getattr(raw.raw, "version", 11)
        return Response(
            status_code=raw.status_code,
            headers=Headers._trusted(raw.raw.headers.items()),
            content=content,
            http_version=_VERSIONS.get(version, "HTTP/1.1"),
            elapsed=time.perf_counter() - start,
            request=request,
        )

    def _drop_idle_connections(self) -> None:
        close_pools(self._adapter.poolmanager)

    def _close(self) -> None:
        close_pools(self._adapter.poolmanager)
        self._session.close()
