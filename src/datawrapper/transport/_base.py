"""The :class:`Transport` protocol, the pool bookkeeping shared by the real backends, and
selection of a backend by name."""

from __future__ import annotations

import functools
import logging
import os
import queue
import re
import threading
import time
from types import TracebackType
from typing import Protocol, runtime_checkable

from .._exceptions import InvalidRequestError, PoolTimeout
from .._redact import install_log_redaction
from ._config import PoolConfig, Timeout
from ._models import Request, Response

__all__ = ["BACKENDS", "Transport", "VerifyTypes", "create_transport", "resolve_verify"]

logger = logging.getLogger("datawrapper.transport")

VerifyTypes = bool | str | os.PathLike[str]

# name -> (module, class, extra that provides the library)
BACKENDS: dict[str, tuple[str, str, str | None]] = {
    "requests": ("._requests", "RequestsTransport", None),
    "httpx": ("._httpx", "HttpxTransport", "httpx"),
    "urllib3": ("._urllib3", "Urllib3Transport", None),
}


@runtime_checkable
class Transport(Protocol):
    """Sends one request, exactly once, and returns the whole response.

    A transport never retries, never follows redirects and never raises for a status: it maps
    every failure of its HTTP library to a :class:`~datawrapper.TransportError` subclass.
    ``close()`` releases its connections and may be called more than once.
    """

    def send(self, request: Request, *, timeout: Timeout) -> Response:
        """Send ``request`` once within the limits of ``timeout``."""
        ...

    def close(self) -> None:
        """Close every pooled connection; idempotent."""
        ...


class BaseTransport:
    """Context-manager support and idempotent close for every transport of this package."""

    name: str = "base"

    def send(self, request: Request, *, timeout: Timeout) -> Response:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def __enter__(self) -> BaseTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class PooledTransport(BaseTransport):
    """What the three real backends share: the connection bound and idle expiry of
    :class:`PoolConfig`, enforced the same way whatever the library underneath.

    At most ``max_connections`` requests are in flight at once (so no backend opens more
    connections than that); a further caller waits up to ``Timeout.pool`` (or not at all
    when ``block`` is False) and then gets :class:`~datawrapper.PoolTimeout`.
    """

    def __init__(self, *, pool: PoolConfig) -> None:
        if not isinstance(pool, PoolConfig):
            raise TypeError(f"pool must be a PoolConfig, got {type(pool).__name__}")
        self.pool = pool
        install_log_redaction()  # the libraries log URLs: keep query tokens out of logs
        # One token per connection slot. SimpleQueue is implemented in C: taking and returning
        # a token costs far less than a (Python-level) threading.Semaphore.
        self._slots: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(pool.max_connections):
            self._slots.put(None)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._idle_since = time.monotonic()
        self._closed = False

    def _send(self, request: Request, timeout: Timeout) -> Response:  # pragma: no cover
        raise NotImplementedError

    def _drop_idle_connections(self) -> None:
        """Close every idle pooled connection (backends whose library lacks idle expiry)."""

    def _close(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def send(self, request: Request, *, timeout: Timeout) -> Response:
        if self._closed:
            raise RuntimeError(
                f"this {type(self).__name__} is closed; create a new client or transport"
            )
        check_header_fields(request)
        try:
            if self.pool.block:
                self._slots.get(timeout=timeout.pool)
            else:
                self._slots.get(block=False)
        except queue.Empty:
            raise PoolTimeout(
                f"no free connection: all {self.pool.max_connections} are busy "
                + (
                    f"after waiting {timeout.pool:g} s (Timeout.pool)"
                    if self.pool.block
                    else "and PoolConfig.block is False"
                )
                + "; raise PoolConfig.max_connections or lower the concurrency",
                request=request,
            ) from None
        try:
            with self._lock:
                if (
                    self._in_flight == 0
                    and time.monotonic() - self._idle_since > self.pool.keepalive_expiry
                ):
                    self._drop_idle_connections()
                self._in_flight += 1
            return self._send(request, timeout)
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle_since = time.monotonic()
            self._slots.put(None)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {state} max_connections={self.pool.max_connections}>"


_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"(?:[!-~](?:[ \t!-~]*[!-~])?)?")


def check_header_fields(request: Request) -> None:
    """Refuse header fields that some backend could not send as given (cached per field set)."""
    _check_fields(request.headers.raw())


@functools.lru_cache(maxsize=256)
def _check_fields(fields: tuple[tuple[str, str], ...]) -> None:
    """Refuse header fields that some backend could not send as given.

    The libraries disagree on anything beyond a token name and a visible-ASCII value: httpx
    refuses non-ASCII and surrounding whitespace, requests and urllib3 send latin-1 or fail
    with UnicodeEncodeError, and send invalid names the server then rejects. So every backend
    accepts exactly what all of them send unchanged, and raises
    :class:`~datawrapper.InvalidRequestError` for the rest before anything is sent (the value
    is not shown: it may be a secret).
    """
    for name, value in fields:
        if not _FIELD_NAME.fullmatch(name):
            raise InvalidRequestError(
                f"invalid header name {name!r}: use only ASCII letters, digits and !#$%&'*+-.^_`|~"
            )
        if not _FIELD_VALUE.fullmatch(value):
            raise InvalidRequestError(
                f"invalid value for header {name!r}: use printable ASCII, without leading or "
                "trailing whitespace (percent-encode other characters, e.g. with "
                "urllib.parse.quote)"
            )


def resolve_verify(verify: VerifyTypes) -> str | bool:
    """The CA bundle path (or False) that every backend uses for ``verify``.

    An explicit path or False is used as given, whatever the environment says. True means the
    default trust store: ``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when
    set (in that order), otherwise certifi's bundle, the same on every backend.
    """
    if verify is False:
        return False
    if verify is True:
        for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            path = os.environ.get(var)
            if path and os.path.exists(path):
                return path
        import certifi

        return str(certifi.where())
    if isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        if not os.path.exists(path):
            raise ValueError(
                f"verify={path!r}: no such CA bundle file or directory; pass the path of a "
                "PEM file, True for the default trust store, or False to skip verification"
            )
        return path
    raise ValueError(
        f"verify must be True, False or the path of a CA bundle, got {type(verify).__name__}"
    )


_insecure_warned = False


def warn_if_insecure(verify: str | bool) -> None:
    """Log once per process that TLS verification was switched off."""
    global _insecure_warned
    if verify is False and not _insecure_warned:
        _insecure_warned = True
        logger.warning(
            "TLS certificate verification is disabled (verify=False): connections can be "
            "intercepted. Pass verify='/path/to/ca.pem' to trust a private CA instead."
        )


def create_transport(
    name: str,
    *,
    pool: PoolConfig | None = None,
    verify: VerifyTypes = True,
) -> Transport:
    """A new transport of the backend ``name`` ("requests", "httpx" or "urllib3")."""
    if not isinstance(name, str) or name not in BACKENDS:
        valid = ", ".join(repr(n) for n in BACKENDS)
        raise ValueError(
            f"unknown transport {name!r}: use one of {valid}, or pass an object with "
            "send(request, *, timeout) and close()"
        )
    module_name, class_name, extra = BACKENDS[name]
    import importlib

    try:
        module = importlib.import_module(module_name, __package__)
    except ImportError as exc:
        hint = f"pip install 'datawrapper[{extra}]'" if extra else f"pip install {name}"
        raise ImportError(
            f"the {name!r} transport needs the {name} library, which is not installed: run {hint}"
        ) from exc
    cls = getattr(module, class_name)
    transport: Transport = cls(pool=pool or PoolConfig(), verify=verify)
    return transport
