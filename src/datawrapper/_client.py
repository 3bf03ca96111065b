"""The :class:`Datawrapper` client: configuration, the one request path, and the API methods."""

from __future__ import annotations

import dataclasses
import importlib
import json as jsonlib
import logging
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, SupportsIndex, TypeVar, overload
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

from ._data import csv_from_data, json_from_data, to_dataframe
from ._exceptions import (
    DatawrapperError,
    DeadlineExceeded,
    InvalidRequestError,
    MissingTokenError,
    PartialFailureError,
)
from ._hooks import Hook, normalize_hooks
from ._operations import OperationKind, OperationTimeouts, TimeoutLike
from ._ratelimit import RateLimiter
from ._redact import redact_url, register_secret
from .transport._base import Transport, VerifyTypes, create_transport
from .transport._config import PoolConfig, RetryPolicy, Timeout, _seconds
from .transport._models import Headers, Request, Response
from .transport._retry import RetryEngine

if TYPE_CHECKING:
    from ._bulk import BulkResult

_T = TypeVar("_T")
_R = TypeVar("_R")

__all__ = ["DEFAULT_BASE_URL", "EXPORT_FORMATS", "ChartList", "Datawrapper", "check_chart_id"]

logger = logging.getLogger("datawrapper.client")

DEFAULT_BASE_URL = "https://api.datawrapper.de"
_CHART_ID = re.compile(r"^[0-9A-Za-z]{5}$")
_USER_AGENT = "datawrapper-python/0.1.0"
_UNSET: Any = object()
_TRUSTED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})


def check_chart_id(chart_id: object) -> str:
    """``chart_id`` if it can be a Datawrapper chart id, else :class:`InvalidRequestError`."""
    if not isinstance(chart_id, str) or not _CHART_ID.match(chart_id):
        raise InvalidRequestError(
            f"invalid chart id {chart_id!r}: Datawrapper chart ids are 5 characters of "
            "0-9, A-Z and a-z, such as 'aBc12'"
        )
    return chart_id


#: Export formats of ``GET /v3/charts/{id}/export/{format}``.
EXPORT_FORMATS = ("png", "pdf", "svg")

# Export parameters: the Python keyword (community client spelling) -> the API's query name.
_EXPORT_PARAMS: dict[str, str] = {
    "width": "width",
    "height": "height",
    "plain": "plain",
    "zoom": "zoom",
    "scale": "scale",
    "unit": "unit",
    "mode": "mode",
    "border_width": "borderWidth",
    "border_color": "borderColor",
    "transparent": "transparent",
    "logo": "logo",
    "logo_id": "logoId",
    "dark": "dark",
    "full_vector": "fullVector",
    "ligatures": "ligatures",
    "download": "download",
}
_EXPORT_CHOICES = {
    "unit": ("px", "mm", "inch"),
    "mode": ("rgb", "cmyk"),
    "logo": ("auto", "on", "off"),
}
_EXPORT_FLAGS = ("plain", "transparent", "dark", "fullVector", "ligatures", "download")


def _check_deadline(deadline: object) -> float:
    """``deadline`` as seconds (a positive finite number), else a ValueError naming it."""
    return _seconds("deadline", deadline)


class _Budget:
    """One deadline shared by the requests of one call: its end is computed once, up front.

    Each request gets the time :meth:`left`; when none is left, the next request is not sent.
    """

    __slots__ = ("_clock", "ends_at", "seconds")

    def __init__(self, clock: Callable[[], float], seconds: float | None) -> None:
        self._clock = clock
        self.seconds = seconds
        self.ends_at = None if seconds is None else clock() + seconds

    def left(self, step: str) -> float | None:
        """Seconds left for ``step`` (None: no deadline), or :class:`DeadlineExceeded`."""
        if self.ends_at is None:
            return None
        remaining = self.ends_at - self._clock()
        if remaining <= 0:
            raise DeadlineExceeded(
                f"the call did not finish within its deadline of {self.seconds:g} s: "
                f"no time was left for {step}"
            )
        return remaining


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _deprecated(old: str, new: str) -> None:
    """Warn that ``Datawrapper.old`` is a deprecated name of ``new`` (at the caller's line)."""
    warnings.warn(
        f"Datawrapper.{old}() is deprecated and will be removed in a future version; "
        f"use {new} instead",
        DeprecationWarning,
        stacklevel=3,
    )


def _segment(value: object, what: str) -> str:
    """``value`` as one URL path segment (percent-encoded), or an InvalidRequestError."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise InvalidRequestError(f"{what} must be a non-empty string or int, got {value!r}")
    return quote(str(value), safe="")


def _int_id(value: object, what: str) -> int:
    """``value`` as an int id (ints and digit strings), or an InvalidRequestError."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidRequestError(f"{what} must be an int such as 12345, got {value!r}")


def _optional_int_id(value: object, what: str) -> int | None:
    return None if value is None else _int_id(value, what)


def _body(**fields: Any) -> dict[str, Any]:
    """The JSON body of the fields that were given (``None`` means "not given")."""
    return {key: value for key, value in fields.items() if value is not None}


def _ipython_display(name: str) -> Any:
    """``IPython.display.<name>`` for ``display=True``, or an ImportError naming IPython."""
    try:
        module = importlib.import_module("IPython.display")
    except ImportError:
        raise ImportError(
            "display=True shows the chart in a notebook and needs IPython, which is not "
            "installed: run pip install ipython, or leave display=False"
        ) from None
    return getattr(module, name)


class ChartList(list[dict[str, Any]]):
    """One page of charts from :meth:`Datawrapper.get_charts`: a list of chart dicts.

    It also behaves like the API's JSON ``{"list", "total", "next"}`` for code written against
    that shape: ``charts["list"]`` is the list itself, ``charts["total"]`` (also
    :attr:`total`) the number of charts matching the filters, ``charts["next"]`` (also
    :attr:`next`) the path of the next page or None; ``charts.get(key, default)`` works too.
    """

    total: int
    next: str | None

    def __init__(
        self,
        charts: Iterable[dict[str, Any]] = (),
        *,
        total: int | None = None,
        next: str | None = None,
    ) -> None:
        super().__init__(charts)
        self.total = len(self) if total is None else total
        self.next = next

    @classmethod
    def from_json(cls, body: Any) -> ChartList:
        """The list of a ``GET /v3/charts`` answer (a ``{"list", "total"}`` dict or a list)."""
        if isinstance(body, dict):
            items = body.get("list") or []
            total = body.get("total")
            following = body.get("next")
            return cls(
                [c for c in items if isinstance(c, dict)],
                total=total if isinstance(total, int) else None,
                next=following if isinstance(following, str) else None,
            )
        if isinstance(body, list):
            return cls([c for c in body if isinstance(c, dict)])
        return cls()

    @overload
    def __getitem__(self, key: SupportsIndex) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, key: slice) -> list[dict[str, Any]]: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: SupportsIndex | slice | str) -> Any:
        if isinstance(key, str):
            if key == "list":
                return self
            if key == "total":
                return self.total
            if key == "next":
                return self.next
            raise KeyError(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]`` for ``"list"``, ``"total"`` and ``"next"``, else ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self) -> str:
        return f"ChartList({list.__repr__(self)}, total={self.total})"


class Datawrapper:
    """A client of the Datawrapper API v3 over pooled connections, with retries.

    ``Datawrapper()`` reads the token from ``DATAWRAPPER_ACCESS_TOKEN`` (at construction) and
    the base URL from ``DATAWRAPPER_BASE_URL`` (default ``https://api.datawrapper.de``).
    Everything else is keyword-only:

    - ``transport``: ``"requests"`` (default), ``"httpx"``, ``"urllib3"`` or any object with
      ``send(request, *, timeout)`` and ``close()`` (e.g. :class:`~datawrapper.MockTransport`).
    - ``retry``: a :class:`~datawrapper.RetryPolicy`; the shorthands ``max_retries``,
      ``backoff_factor``, ``retry_on`` and ``deadline`` override its fields.
    - ``timeout``: the base :class:`~datawrapper.Timeout` (or seconds) of every attempt;
      ``timeouts``: per operation kind (``{"export": Timeout(5, read=300)}`` or an
      :class:`~datawrapper.OperationTimeouts`). Every method also takes ``timeout=`` for one
      call. Precedence: that per-call value, then ``timeouts``, then ``timeout`` (which sets
      reads and writes and is the floor of uploads, publishes and exports), then the
      defaults; see :mod:`datawrapper._operations`.
    - Every API method accepts ``timeout=`` and ``deadline=`` (keyword) for one call.
      ``deadline`` (seconds, a positive number) bounds the whole call, retries and waits
      included: it returns or raises :class:`~datawrapper.DeadlineExceeded` (or the last
      attempt's error) within about that time, whatever the server does. A method that sends
      several requests (``create_chart`` with ``data``, ``update_chart`` with ``data``,
      ``add_json``) spends one deadline across all of them. ``None`` uses the client's
      ``RetryPolicy.deadline`` (set with ``deadline=`` here).
    - ``pool``: a :class:`~datawrapper.PoolConfig`; ``verify``: True, False or a CA bundle path.
    - ``hooks``: callables receiving an :class:`~datawrapper.Event` per request, response,
      retry and error; ``rate_limiter``: a :class:`~datawrapper.RateLimiter` paced before
      every attempt.
    - ``sleep``, ``clock``, ``random``: injected into the retry engine (for tests).

    The API methods have the community client's names, arguments and return types (JSON as
    dict/list, ``True`` for an empty answer, bytes for exports): charts (``get_charts``,
    ``get_chart``, ``create_chart``, ``update_chart``, ``update_description``,
    ``move_chart``, ``copy_chart``, ``fork_chart``, ``publish_chart``, ``unpublish_chart``,
    ``delete_chart``, ``get_chart_display_urls``, ``get_iframe_code``), chart data
    (``get_data``, ``add_data``, ``add_json``, ``refresh_data``), exports (``export_chart``,
    ``export_png``, ``export_pdf``, ``export_svg``), folders, themes, basemaps, the user
    (``get_my_account`` ...), users, workspaces with members and teams, login and API tokens,
    oEmbed and the River, plus the raw verbs ``get``/``post``/``patch``/``put``/``delete``.
    Every one goes through :meth:`request`; chart ids are checked before any traffic.
    Deprecated community names (``chart_properties``, ``chart_data``, ``account_info``,
    ``update_metadata``) still work and emit a :class:`DeprecationWarning`.

    Use it as a context manager, or call :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        access_token: str | None = None,
        *,
        base_url: str | None = None,
        transport: str | Transport = "requests",
        retry: RetryPolicy | None = None,
        timeout: Timeout | float | None = None,
        timeouts: OperationTimeouts | Mapping[OperationKind | str, TimeoutLike] | None = None,
        pool: PoolConfig | None = None,
        verify: VerifyTypes = True,
        max_retries: int | None = None,
        backoff_factor: float | None = None,
        retry_on: Iterable[int] | None = None,
        deadline: float | None = None,
        hooks: Hook | Iterable[Hook] | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        token = (
            access_token if access_token is not None else os.environ.get("DATAWRAPPER_ACCESS_TOKEN")
        )
        if token is not None and not isinstance(token, str):
            raise TypeError(f"access_token must be a str, got {type(token).__name__}")
        self._token = token.strip() if token else None
        register_secret(self._token)
        # Validated once here (a line break in the token would split the request), then
        # reused by every call without validating again.
        self._base_fields: tuple[tuple[str, str], ...] = ()
        if self._token:
            self._base_fields = Headers(
                [
                    ("Authorization", f"Bearer {self._token}"),
                    ("Accept", "*/*"),
                    ("User-Agent", _USER_AGENT),
                ]
            ).raw()

        url = base_url or os.environ.get("DATAWRAPPER_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = self._check_base_url(url)
        self._api_prefix = "" if urlsplit(self.base_url).path.endswith("/v3") else "/v3"

        policy = retry if retry is not None else RetryPolicy()
        if not isinstance(policy, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, got {type(policy).__name__}")
        overrides: dict[str, Any] = {}
        if max_retries is not None:
            overrides["max_retries"] = max_retries
        if backoff_factor is not None:
            overrides["backoff_factor"] = backoff_factor
        if retry_on is not None:
            overrides["retry_on"] = retry_on
        if deadline is not None:
            overrides["deadline"] = deadline
        if overrides:
            policy = dataclasses.replace(policy, **overrides)
        self.retry = policy
        self.timeout = timeout if isinstance(timeout, Timeout) else Timeout(timeout)
        self.timeouts = OperationTimeouts.from_base(self.timeout, timeouts)

        self._owns_transport = isinstance(transport, str)
        if isinstance(transport, str):
            self.transport: Transport = create_transport(transport, pool=pool, verify=verify)
            self.backend = transport
        else:
            if not (
                callable(getattr(transport, "send", None))
                and callable(getattr(transport, "close", None))
            ):
                raise TypeError(
                    f"transport must be 'requests', 'httpx', 'urllib3' or an object with "
                    f"send(request, *, timeout) and close(), got {type(transport).__name__}"
                )
            if pool is not None or verify is not True:
                raise ValueError(
                    "pool= and verify= configure the built-in backends; configure your "
                    "transport object directly instead"
                )
            self.transport = transport
            self.backend = str(getattr(transport, "name", type(transport).__name__))
        self.pool = getattr(self.transport, "pool", pool or PoolConfig())

        engine_kwargs: dict[str, Any] = {}
        if sleep is not None:
            engine_kwargs["sleep"] = sleep
        if clock is not None:
            engine_kwargs["clock"] = clock
        if random is not None:
            engine_kwargs["random"] = random
        self._engine = RetryEngine(policy, **engine_kwargs)
        self.hooks = normalize_hooks(hooks)
        self.rate_limiter = rate_limiter
        self._closed = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    @staticmethod
    def _check_base_url(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequestError(
                f"invalid base_url {redact_url(url)!r}: use an absolute http(s) URL such as "
                f"{DEFAULT_BASE_URL!r}"
            )
        if parts.query or parts.fragment:
            raise InvalidRequestError("base_url must not have a query or fragment")
        return url.rstrip("/")

    def map(
        self,
        fn: Callable[[_T], _R],
        items: Iterable[_T],
        *,
        max_workers: int | None = None,
        progress: bool | Callable[[int, int | None], None] = False,
        return_exceptions: bool = True,
        max_pause: float | None = None,
    ) -> BulkResult[_T, _R]:
        """Run ``fn(item)`` for every item on threads sharing this client's connection pool.

        Results come back in input order with each item's error collected (see
        :func:`datawrapper._bulk.bulk_map` for every option); when a 429 outlasts the retries,
        all workers pause together. Example::

            results = client.map(lambda df: client.create_chart("t", data=df), frames)
        """
        from ._bulk import bulk_map

        return bulk_map(
            self,
            fn,
            items,
            max_workers=max_workers,
            progress=progress,
            return_exceptions=return_exceptions,
            max_pause=max_pause,
        )

    def close(self) -> None:
        """Close the transport's pooled connections (when the client created it). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> Datawrapper:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        token = "set" if self._token else "missing"
        return f"<Datawrapper base_url={self.base_url!r} backend={self.backend!r} token={token}>"

    @property
    def has_token(self) -> bool:
        """Whether an API token is configured (the token itself is never shown)."""
        return bool(self._token)

    # ------------------------------------------------------------------ the request path

    def _url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidRequestError(
                f"invalid API path {path!r}: give the path below /v3, starting with '/', "
                "such as '/charts'"
            )
        url = f"{self.base_url}{self._api_prefix}{path}"
        if params:
            pairs = [(k, _query_value(v)) for k, v in params.items() if v is not None]
            if pairs:
                url += "?" + urlencode(pairs)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = _UNSET,
        content: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout | float | None = None,
        idempotent: bool | None = None,
        deadline: float | None = None,
        kind: OperationKind | str | None = None,
    ) -> Response:
        """Send one API call (with retries) and return its response; raise on failure.

        ``path`` is relative to ``/v3`` (e.g. ``"/charts"``). ``json`` is serialised as the
        body with ``Content-Type: application/json``; ``content`` sends raw bytes with
        ``content_type``. A call without a body sends no Content-Type. ``kind`` selects the
        default timeout (GET, HEAD and OPTIONS are ``"read"``, other methods ``"write"``);
        ``timeout`` overrides it for this call. ``idempotent=True`` lets a POST be retried
        like a PUT (only for operations that are safe to repeat). ``deadline`` (seconds)
        bounds the whole call, retries, waits and redirects included (None: the policy's).
        """
        if self._closed:
            raise RuntimeError("this Datawrapper client is closed; create a new one")
        if not self._token:
            raise MissingTokenError(
                "no Datawrapper API token: pass Datawrapper(access_token=...) or set the "
                "DATAWRAPPER_ACCESS_TOKEN environment variable"
            )
        fields = list(self._base_fields)
        body = b""
        if json is not _UNSET:
            if content is not None:
                raise InvalidRequestError("pass either json= or content=, not both")
            body = jsonlib.dumps(json, ensure_ascii=False, allow_nan=False).encode("utf-8")
            fields.append(("Content-Type", "application/json"))
        elif content is not None:
            body = content
            fields.append(("Content-Type", content_type or "application/octet-stream"))
        # Only fields validated in __init__ (or constants) can skip validation.
        header_obj = Headers._trusted(fields) if content_type is None else Headers(fields)
        if headers:
            extra = Headers(headers)
            if not body:
                # A bodiless request never announces a body type (community client trap).
                extra = Headers([(k, v) for k, v in extra.raw() if k.lower() != "content-type"])
            header_obj = header_obj.merged(extra)
        url = self._url(path, params)
        if method in _TRUSTED_METHODS and isinstance(body, bytes) and url.startswith(self.base_url):
            request = Request._trusted(method, url, header_obj, body)
        else:
            request = Request(method, url, header_obj, body)
        limits = self.timeout_for(method, kind=kind, timeout=timeout)
        return self.send(request, timeout=limits, idempotent=idempotent, deadline=deadline)

    def _budget(self, deadline: float | None) -> _Budget:
        """One deadline for a call that sends several requests (None: the policy's)."""
        seconds = self._engine.policy.deadline if deadline is None else _check_deadline(deadline)
        return _Budget(self._engine.clock, seconds)

    def timeout_for(
        self,
        method: str = "GET",
        *,
        kind: OperationKind | str | None = None,
        timeout: TimeoutLike | None = None,
    ) -> Timeout:
        """The :class:`Timeout` a call would use: ``timeout`` if given, else its kind's."""
        if timeout is not None:
            if isinstance(timeout, Timeout):
                return timeout
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise InvalidRequestError(
                    f"timeout must be a datawrapper.Timeout or a number of seconds, "
                    f"got {type(timeout).__name__} {timeout!r}"
                )
            return Timeout(timeout)
        if kind is None:
            kind = (
                OperationKind.READ
                if method.upper() in ("GET", "HEAD", "OPTIONS")
                else (OperationKind.WRITE)
            )
        return self.timeouts.for_kind(kind)

    def send(
        self,
        request: Request,
        *,
        timeout: Timeout | None = None,
        idempotent: bool | None = None,
        deadline: float | None = None,
    ) -> Response:
        """Send a prepared :class:`Request` with retries, following redirects safely.

        Redirects are followed for GET and HEAD, and for 307/308 whatever the method (they
        keep method and body), at most :attr:`max_redirects` times. ``Authorization`` is
        dropped whenever a redirect leaves the original scheme, host and port, so a token is
        never sent to another server. ``deadline`` (seconds; None: the policy's) bounds the
        whole call, redirects included.
        """
        if deadline is not None:
            deadline = _check_deadline(deadline)
        seconds = deadline if deadline is not None else self._engine.policy.deadline
        budget = None if seconds is None else _Budget(self._engine.clock, seconds)
        limits = timeout or self.timeout
        response = self._engine.send(
            self.transport,
            request,
            timeout=limits,
            idempotent=idempotent,
            deadline=deadline,
            hooks=self.hooks,
            rate_limiter=self.rate_limiter,
            backend=self.backend,
        )
        hops = 0
        while 300 <= response.status_code < 400:
            target = self._redirect_target(request, response, hops)
            hops += 1
            request = target
            response = self._engine.send(
                self.transport,
                request,
                timeout=limits,
                idempotent=idempotent,
                deadline=None if budget is None else budget.left("following the redirect"),
                hooks=self.hooks,
                rate_limiter=self.rate_limiter,
                backend=self.backend,
            )
        return response

    max_redirects = 5

    def _redirect_target(self, request: Request, response: Response, hops: int) -> Request:
        """The request that follows the redirect ``response``, or a FailedRequestError."""
        from ._exceptions import FailedRequestError

        location = response.headers.get("location")
        status = response.status_code
        followable = status in (307, 308) or (
            status in (301, 302, 303) and request.method in ("GET", "HEAD")
        )
        if not location or not followable:
            raise FailedRequestError(
                response,
                message=(
                    f"the server answered {request.method} {redact_url(request.url)} with a "
                    f"{status} redirect that is not followed automatically"
                    + ("" if location else " (no Location header)")
                    + "; check base_url"
                ),
            )
        if hops >= self.max_redirects:
            raise FailedRequestError(
                response,
                message=f"more than {self.max_redirects} redirects for {request.method} "
                f"{redact_url(request.url)}",
            )
        url = urljoin(request.url, location)
        old, new = urlsplit(request.url), urlsplit(url)
        headers = request.headers
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            headers = Headers(
                [
                    (k, v)
                    for k, v in headers.raw()
                    if k.lower() not in ("authorization", "cookie", "proxy-authorization")
                ]
            )
            logger.debug("redirect leaves %s://%s: Authorization dropped", old.scheme, old.hostname)
        return Request(request.method, url, headers, request.content)

    @staticmethod
    def _decode(response: Response) -> Any:
        """JSON for a JSON body, ``True`` for an empty body, text for text, else bytes.

        A response without a Content-Type never crashes (the community client raised
        ``KeyError``): its body is parsed as JSON if it is JSON, else returned as text when
        it is UTF-8, else as bytes.
        """
        if not response.content:
            return True
        kind = response.content_type
        if "json" in kind:
            try:
                return response.json()
            except ValueError:
                return response.text
        if kind.startswith("text/"):
            return response.text
        if not kind:
            try:
                return response.json()
            except (ValueError, UnicodeDecodeError):
                pass
            try:
                return response.content.decode("utf-8")
            except UnicodeDecodeError:
                return response.content
        return response.content

    def _call(
        self,
        method: str,
        path: str,
        *,
        kind: OperationKind,
        params: Mapping[str, Any] | None = None,
        body: Any = _UNSET,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One JSON API call through :meth:`request`, its body decoded (see :meth:`_decode`)."""
        response = self.request(
            method,
            path,
            params=params,
            json=body,
            timeout=timeout,
            deadline=deadline,
            idempotent=idempotent,
            kind=kind,
        )
        return self._decode(response)

    def _read(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike | None,
        deadline: float | None,
    ) -> Any:
        """A quick-read ``GET`` of ``path`` through :meth:`_call`, its JSON decoded."""
        return self._call(
            "GET",
            path,
            kind=OperationKind.READ,
            params=params,
            timeout=timeout,
            deadline=deadline,
        )

    def _api_path(self, url: str) -> tuple[str, list[tuple[str, str]]]:
        """The API path and query pairs of ``url`` (absolute, or a path such as ``/v3/me``).

        An absolute URL must point at this client's ``base_url``: the token is never sent to
        another server.
        """
        if not isinstance(url, str) or not url:
            raise InvalidRequestError(f"url must be a non-empty string, got {url!r}")
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        if parts.scheme or parts.netloc:
            same = (parts.scheme, parts.hostname, parts.port) == (
                base.scheme,
                base.hostname,
                base.port,
            )
            if not same:
                raise InvalidRequestError(
                    f"{redact_url(url)!r} is not on this client's base_url {self.base_url!r}: "
                    "the API token is only sent there"
                )
            path = parts.path
        else:
            path = parts.path if parts.path.startswith("/") else "/" + parts.path
        root = base.path.rstrip("/")
        if root and path.startswith(root + "/"):
            path = path[len(root) :]
        if self._api_prefix and (
            path == self._api_prefix or path.startswith(self._api_prefix + "/")
        ):
            path = path[len(self._api_prefix) :] or "/"
        return path, parse_qsl(parts.query, keep_blank_values=True)

    # ------------------------------------------------------------------ raw verbs (community)
    #
    # The community client's public helpers, kept for code that calls them directly. They take
    # a full URL (as the community's ``_CHARTS_URL`` constants build) or an API path, and go
    # through :meth:`request` like every other method.

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        timeout: TimeoutLike | None = None,
        *,
        deadline: float | None = None,
    ) -> Any:
        """GET ``url``: JSON as dict/list, CSV and other text as ``str``, else ``bytes``.

        Unlike the community client, CSV comes back as text (pandas is optional); use
        :meth:`get_data` with ``as_dataframe=True`` for a DataFrame.
        """
        path, query = self._api_path(url)
        merged = dict(query)
        merged.update(params or {})
        return self._call(
            "GET", path, kind=OperationKind.READ, params=merged, timeout=timeout, deadline=deadline
        )

    def post(
        self,
        url: str,
        data: Any = None,
        timeout: TimeoutLike | None = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        deadline: float | None = None,
    ) -> Any:
        """POST ``data`` as JSON to ``url``; the JSON answer, or ``True`` for an empty one.

        Never retried once it may have reached the server (it could create things twice).
        """
        return self._raw_send("POST", url, data, timeout, extra_headers, deadline)

    def patch(
        self,
        url: str,
        data: Any = None,
        timeout: TimeoutLike | None = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        deadline: float | None = None,
    ) -> Any:
        """PATCH ``data`` as JSON to ``url`` and return the JSON answer."""
        return self._raw_send("PATCH", url, data, timeout, extra_headers, deadline)

    def put(
        self,
        url: str,
        data: Any = None,
        timeout: TimeoutLike | None = None,
        extra_headers: Mapping[str, str] | None = None,
        dump_data: bool = True,
        *,
        deadline: float | None = None,
    ) -> bool:
        """PUT ``data`` to ``url`` (as JSON, or raw bytes/text with ``dump_data=False``); True."""
        if dump_data:
            self._raw_send("PUT", url, data, timeout, extra_headers, deadline)
            return True
        path, query = self._api_path(url)
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data or b"")
        content_type = None
        for key, value in (extra_headers or {}).items():
            if key.lower() == "content-type":
                content_type = value
        self.request(
            "PUT",
            path,
            params=dict(query),
            content=raw if raw else None,
            content_type=content_type,
            headers={k: v for k, v in (extra_headers or {}).items() if k.lower() != "content-type"},
            timeout=timeout,
            deadline=deadline,
            kind=OperationKind.UPLOAD,
        )
        return True

    def delete(
        self,
        url: str,
        timeout: TimeoutLike | None = None,
        data: Any = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        deadline: float | None = None,
    ) -> bool:
        """DELETE ``url`` (with ``data`` as a JSON body when given); True."""
        self._raw_send("DELETE", url, data, timeout, extra_headers, deadline)
        return True

    def _raw_send(
        self,
        method: str,
        url: str,
        data: Any,
        timeout: TimeoutLike | None,
        extra_headers: Mapping[str, str] | None,
        deadline: float | None = None,
    ) -> Any:
        path, query = self._api_path(url)
        headers = {k: v for k, v in (extra_headers or {}).items() if k.lower() != "content-type"}
        response = self.request(
            method,
            path,
            params=dict(query),
            json=data if data else _UNSET,
            headers=headers,
            timeout=timeout,
            deadline=deadline,
            kind=OperationKind.WRITE,
        )
        return self._decode(response)

    # ------------------------------------------------------------------ charts

    def get_charts(
        self,
        user_id: str | int | None = None,
        published: bool | None = None,
        search: str | None = None,
        order: str | None = None,
        order_by: str | None = None,
        limit: int | None = 25,
        folder_id: str | int | None = None,
        team_id: str | None = None,
        *,
        offset: int | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> ChartList:
        """The charts visible to the token (``GET /v3/charts``), as a :class:`ChartList`.

        The result is a list of chart dicts (one page) that also answers ``["list"]``,
        ``["total"]`` and ``["next"]`` like the API's JSON, so code written for either shape
        works. Filters that are ``None`` are not sent. ``published=True`` lists published charts
        only, ``False`` unpublished ones; the default lists both (the community client sent
        ``published=true`` unless told otherwise).
        """
        if order is not None and order.upper() not in ("ASC", "DESC"):
            raise InvalidRequestError(f"order must be 'ASC' or 'DESC', got {order!r}")
        params = {
            "userId": user_id,
            "published": published,
            "search": search or None,
            "order": order.upper() if order else None,
            "orderBy": order_by or None,
            "limit": limit,
            "offset": offset,
            "folderId": _optional_int_id(folder_id, "folder_id") if folder_id != "" else None,
            "teamId": team_id or None,
        }
        result = self._call(
            "GET",
            "/charts",
            kind=OperationKind.READ,
            params=params,
            timeout=timeout,
            deadline=deadline,
        )
        return ChartList.from_json(result)

    def get_chart(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """The chart's JSON: type, title, metadata ... (``GET /v3/charts/{id}``)."""
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._call(
            "GET", f"/charts/{cid}", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    def chart_properties(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """Deprecated name of :meth:`get_chart`."""
        _deprecated("chart_properties", "get_chart(chart_id)")
        return self.get_chart(chart_id, timeout=timeout, deadline=deadline)

    def create_chart(
        self,
        title: str = "New Chart",
        chart_type: str = "d3-bars",
        theme: str | None = None,
        data: Any = None,
        external_data_url: str | None = None,
        folder_id: str | int | None = None,
        organization_id: str | None = None,
        forkable: bool | None = None,
        language: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Create a chart (``POST /v3/charts``), upload ``data`` if given; return its JSON.

        ``data`` (a DataFrame, CSV text, row dicts or a dict of columns) is checked and turned
        into CSV *before* anything is sent, so bad data never leaves an empty chart behind.
        The creation is never retried after it may have reached the server, so one call makes
        at most one chart. If the data upload then fails (after its retries),
        :class:`~datawrapper.PartialFailureError` is raised with ``.chart_id`` naming the
        chart that was created. ``deadline`` bounds both requests together.
        """
        budget = self._budget(deadline)
        if not isinstance(title, str):
            raise InvalidRequestError(f"title must be a string, got {type(title).__name__}")
        if not isinstance(chart_type, str) or not chart_type:
            raise InvalidRequestError(
                f"chart_type must be a Datawrapper type id such as 'd3-bars', got {chart_type!r}"
            )
        payload = None if data is None else csv_from_data(data)
        body = _body(
            title=title,
            type=chart_type,
            theme=theme or None,
            folderId=_optional_int_id(folder_id, "folder_id") if folder_id != "" else None,
            organizationId=organization_id or None,
            forkable=forkable,
            language=language or None,
            externalData=external_data_url or None,
            metadata=dict(metadata) if metadata else None,
        )
        chart: dict[str, Any] = self._call(
            "POST",
            "/charts",
            kind=OperationKind.WRITE,
            body=body,
            timeout=timeout,
            deadline=budget.left("creating the chart"),
            idempotent=False,
        )
        if payload is not None:
            cid = str(chart.get("id", "")) if isinstance(chart, dict) else ""
            if not cid:
                raise DatawrapperError(
                    "the API answered the chart creation without a chart id, so the data "
                    "could not be uploaded; check get_charts() for the new chart"
                )
            self._upload_after_create(cid, payload, timeout, budget)
        return chart

    def _upload_after_create(
        self, chart_id: str, payload: bytes, timeout: TimeoutLike | None, budget: _Budget
    ) -> None:
        try:
            left = budget.left("uploading the data")
            self._put_data(chart_id, payload, "text/csv; charset=utf-8", timeout, left)
        except DatawrapperError as exc:
            raise PartialFailureError(
                f"chart {chart_id} was created, but uploading its data failed: {exc.message}. "
                f"Retry with add_data({chart_id!r}, data) or delete_chart({chart_id!r})",
                chart_id=chart_id,
                step="add_data",
            ) from exc

    def update_chart(
        self,
        chart_id: str,
        title: str | None = None,
        chart_type: str | None = None,
        theme: str | None = None,
        data: Any = None,
        external_data_url: str | None = None,
        folder_id: str | int | None = None,
        organization_id: str | None = None,
        forkable: bool | None = None,
        language: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change a chart (``PATCH /v3/charts/{id}``, metadata deep-merged); upload ``data``.

        Returns the chart's JSON after the change. Raises
        :class:`~datawrapper.InvalidRequestError` when nothing is to be changed. ``deadline``
        bounds all its requests together.
        """
        budget = self._budget(deadline)
        cid = check_chart_id(chart_id)
        payload = None if data is None else csv_from_data(data)
        body = _body(
            title=title,
            type=chart_type or None,
            theme=theme or None,
            externalData=external_data_url or None,
            folderId=_optional_int_id(folder_id, "folder_id") if folder_id != "" else None,
            organizationId=organization_id or None,
            forkable=forkable,
            language=language or None,
            metadata=dict(metadata) if metadata else None,
        )
        if not body and payload is None:
            raise InvalidRequestError(
                "no updates submitted: pass at least one of title, chart_type, theme, data, "
                "external_data_url, folder_id, organization_id, forkable, language or metadata"
            )
        result: dict[str, Any] = {}
        if body:
            result = self._call(
                "PATCH",
                f"/charts/{cid}",
                kind=OperationKind.WRITE,
                body=body,
                timeout=timeout,
                deadline=budget.left("updating the chart"),
            )
        if payload is not None:
            left = budget.left("uploading the data")
            self._put_data(cid, payload, "text/csv; charset=utf-8", timeout, left)
            if not body:
                left = budget.left("reading the updated chart")
                result = self.get_chart(cid, timeout=timeout, deadline=left)
        return result

    def update_metadata(
        self,
        chart_id: str,
        metadata: Mapping[str, Any],
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Deprecated: deep-merge ``metadata`` into the chart; use :meth:`update_chart`."""
        _deprecated("update_metadata", "update_chart(chart_id, metadata=...)")
        if not isinstance(metadata, Mapping) or not metadata:
            raise InvalidRequestError(
                "metadata must be a non-empty dict such as {'describe': {'intro': 'Hi'}}"
            )
        return self.update_chart(chart_id, metadata=metadata, timeout=timeout, deadline=deadline)

    def update_description(
        self,
        chart_id: str,
        source_name: str | None = None,
        source_url: str | None = None,
        intro: str | None = None,
        byline: str | None = None,
        aria_description: str | None = None,
        number_prepend: str | None = None,
        number_append: str | None = None,
        number_format: str | None = None,
        number_divisor: int | None = None,
        hide_title: bool | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change ``metadata.describe`` (source, intro, byline, number format ...); the chart.

        Only the fields given are sent, so ``hide_title`` is left alone unless passed (the
        community client reset it to False on every call).
        """
        describe = _body(
            **{
                "source-name": source_name,
                "source-url": source_url,
                "intro": intro,
                "byline": byline,
                "aria-description": aria_description,
                "number-prepend": number_prepend,
                "number-append": number_append,
                "number-format": number_format,
                "number-divisor": number_divisor,
                "hide-title": hide_title,
            }
        )
        if not describe:
            check_chart_id(chart_id)
            raise InvalidRequestError(
                "no updates submitted: pass at least one description field, e.g. intro='...'"
            )
        return self.update_chart(
            chart_id, metadata={"describe": describe}, timeout=timeout, deadline=deadline
        )

    def move_chart(
        self,
        chart_id: str,
        folder_id: str | int,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Move the chart into folder ``folder_id`` (``PATCH /v3/charts/{id}``); the chart."""
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/charts/{cid}",
            kind=OperationKind.WRITE,
            body={"folderId": _int_id(folder_id, "folder_id")},
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def delete_chart(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> bool:
        """Delete the chart (``DELETE /v3/charts/{id}``); True."""
        cid = check_chart_id(chart_id)
        self.request(
            "DELETE", f"/charts/{cid}", kind=OperationKind.WRITE, timeout=timeout, deadline=deadline
        )
        return True

    def copy_chart(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """Make an editable copy (``POST /v3/charts/{id}/copy``); the new chart's JSON.

        Never retried once it may have reached the server: that could make two copies.
        """
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._call(
            "POST",
            f"/charts/{cid}/copy",
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
            idempotent=False,
        )
        return result

    def fork_chart(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """Fork a (River) chart (``POST /v3/charts/{id}/fork``); the new chart's JSON.

        Never retried once it may have reached the server: that could make two forks.
        """
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._call(
            "POST",
            f"/charts/{cid}/fork",
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
            idempotent=False,
        )
        return result

    def publish_chart(
        self,
        chart_id: str,
        display: bool = False,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Any:
        """Publish the chart (``POST /v3/charts/{id}/publish``): ``{"data", "version", "url"}``.

        Publishing again only bumps the public version, so this POST is retried like a PUT.
        It uses the long ``"publish"`` timeout. ``display=True`` returns an IPython
        ``IFrame`` of the published chart instead (needs IPython).
        """
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._call(
            "POST",
            f"/charts/{cid}/publish",
            kind=OperationKind.PUBLISH,
            timeout=timeout,
            deadline=deadline,
            idempotent=True,
        )
        if display:
            chart = result.get("data", {}) if isinstance(result, dict) else {}
            return self._iframe(chart)
        return result

    def unpublish_chart(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> bool:
        """Take the chart offline (``POST /v3/charts/{id}/unpublish``); True. Safe to repeat."""
        cid = check_chart_id(chart_id)
        self.request(
            "POST",
            f"/charts/{cid}/unpublish",
            kind=OperationKind.PUBLISH,
            timeout=timeout,
            deadline=deadline,
            idempotent=True,
        )
        return True

    @staticmethod
    def _iframe(chart: Mapping[str, Any]) -> Any:
        publish = chart.get("metadata", {}).get("publish", {})
        url = chart.get("publicUrl")
        if not url:
            raise InvalidRequestError(
                f"chart {chart.get('id')!r} is not published, so there is nothing to display: "
                "publish it first with publish_chart()"
            )
        iframe = _ipython_display("IFrame")
        return iframe(url, width=publish.get("embed-width"), height=publish.get("embed-height"))

    def display_chart(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> Any:
        """An IPython ``IFrame`` of the published chart, for notebooks (needs IPython)."""
        return self._iframe(self.get_chart(chart_id, timeout=timeout, deadline=deadline))

    def get_chart_display_urls(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> list[dict[str, Any]]:
        """The URLs the chart can be shown at (``GET /v3/charts/{id}/display-urls``)."""
        cid = check_chart_id(chart_id)
        result: list[dict[str, Any]] = self._read(
            f"/charts/{cid}/display-urls", timeout=timeout, deadline=deadline
        )
        return result

    def get_iframe_code(
        self,
        chart_id: str,
        responsive: bool = False,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> str:
        """The chart's embed code: fixed-size iframe, or responsive with ``responsive=True``.

        Raises :class:`~datawrapper.InvalidRequestError` (not ``KeyError``) when the chart
        has no embed code yet because it was never published.
        """
        chart = self.get_chart(chart_id, timeout=timeout, deadline=deadline)
        codes = chart.get("metadata", {}).get("publish", {}).get("embed-codes") or {}
        key = "embed-method-responsive" if responsive else "embed-method-iframe"
        code = codes.get(key)
        if not isinstance(code, str):
            raise InvalidRequestError(
                f"chart {chart_id} has no {'responsive ' if responsive else ''}embed code "
                "yet: publish it first with publish_chart()"
            )
        return code

    # ------------------------------------------------------------------ chart data

    def get_data(
        self,
        chart_id: str,
        *,
        as_dataframe: bool = False,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Any:
        """The chart's data (``GET /v3/charts/{id}/data``).

        CSV data comes back as text, exactly as stored, or as a pandas DataFrame with
        ``as_dataframe=True`` (needs the ``pandas`` extra; tab- and comma-separated data are
        both recognised). JSON data (see :meth:`add_json`) comes back parsed.
        """
        cid = check_chart_id(chart_id)
        response = self.request(
            "GET",
            f"/charts/{cid}/data",
            kind=OperationKind.READ,
            timeout=timeout,
            deadline=deadline,
        )
        if "json" in response.content_type and response.content.strip():
            try:
                return response.json()
            except ValueError:
                pass
        text = response.text
        return to_dataframe(text) if as_dataframe else text

    def chart_data(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> Any:
        """Deprecated name of :meth:`get_data`."""
        _deprecated("chart_data", "get_data(chart_id)")
        return self.get_data(chart_id, timeout=timeout, deadline=deadline)

    def add_data(
        self,
        chart_id: str,
        data: Any,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Replace the chart's data (``PUT /v3/charts/{id}/data``) with CSV made from ``data``.

        ``data``: a pandas DataFrame, CSV text or bytes (sent unchanged), a list of row dicts,
        or a dict of columns. Uses the ``"upload"`` timeout (long write limit). True.
        """
        cid = check_chart_id(chart_id)
        self._put_data(cid, csv_from_data(data), "text/csv; charset=utf-8", timeout, deadline)
        return True

    def add_json(
        self,
        chart_id: str,
        data: Any,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Store JSON ``data`` for the chart (e.g. locator-map markers); True.

        Sets ``metadata.data.json = true`` (a JSON boolean) and then uploads ``data`` with
        ``Content-Type: application/json`` (the community client sent it as ``text/csv``).
        """
        budget = self._budget(deadline)
        cid = check_chart_id(chart_id)
        payload = json_from_data(data)
        left = budget.left("marking the data as JSON")
        self.update_chart(cid, metadata={"data": {"json": True}}, timeout=timeout, deadline=left)
        left = budget.left("uploading the data")
        self._put_data(cid, payload, "application/json", timeout, left)
        return True

    def _put_data(
        self,
        chart_id: str,
        payload: bytes,
        content_type: str,
        timeout: TimeoutLike | None,
        deadline: float | None = None,
    ) -> None:
        self.request(
            "PUT",
            f"/charts/{chart_id}/data",
            content=payload,
            content_type=content_type,
            kind=OperationKind.UPLOAD,
            timeout=timeout,
            deadline=deadline,
        )

    def refresh_data(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any] | bool:
        """Re-fetch the chart's external data (``POST /v3/charts/{id}/data/refresh``).

        The API answers 204 No Content, which is success: this returns True (the community
        client failed an assertion here). Safe to repeat, so it is retried like a PUT.
        """
        cid = check_chart_id(chart_id)
        result: dict[str, Any] | bool = self._call(
            "POST",
            f"/charts/{cid}/data/refresh",
            kind=OperationKind.PUBLISH,
            timeout=timeout,
            deadline=deadline,
            idempotent=True,
        )
        return result

    # ------------------------------------------------------------------ export

    def _export_query(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The export query from community-style or API-style keywords, validated."""
        api_names = {camel: camel for camel in _EXPORT_PARAMS.values()}
        query: dict[str, Any] = {}
        for key, value in params.items():
            if value is None:
                continue
            name = _EXPORT_PARAMS.get(key) or api_names.get(key)
            if name is None:
                valid = ", ".join(sorted(_EXPORT_PARAMS))
                raise InvalidRequestError(
                    f"unknown export parameter {key!r}: use {valid} (or the API's camelCase "
                    "names such as borderWidth)"
                )
            if name in query and query[name] != value:
                raise InvalidRequestError(f"export parameter {name!r} was given twice")
            query[name] = value
        for name, choices in _EXPORT_CHOICES.items():
            if name in query and query[name] not in choices:
                raise InvalidRequestError(
                    f"export {name} must be one of {', '.join(map(repr, choices))}, "
                    f"got {query[name]!r}"
                )
        for name in _EXPORT_FLAGS:
            if name in query and not isinstance(query[name], bool):
                raise InvalidRequestError(
                    f"export {name} must be True or False, got {query[name]!r}"
                )
        rules: tuple[tuple[str, str, Callable[[float], bool]], ...] = (
            ("width", ">= 1", lambda v: v >= 1),
            ("zoom", "> 0", lambda v: v > 0),
            ("scale", "> 0", lambda v: v > 0),
            ("borderWidth", ">= 0", lambda v: v >= 0),
        )
        for name, bound, ok in rules:
            if name in query:
                value = query[name]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise InvalidRequestError(f"export {name} must be a number, got {value!r}")
                if not ok(value):
                    raise InvalidRequestError(f"export {name} must be {bound}, got {value!r}")
        if "height" in query:
            height = query["height"]
            if height != "auto" and (
                isinstance(height, bool) or not isinstance(height, (int, float)) or height < 1
            ):
                raise InvalidRequestError(
                    f"export height must be a number >= 1 or 'auto', got {height!r}"
                )
        return query

    def _export(
        self,
        chart_id: str,
        fmt: str,
        params: Mapping[str, Any],
        timeout: TimeoutLike | None,
        deadline: float | None = None,
    ) -> bytes:
        cid = check_chart_id(chart_id)
        if fmt not in EXPORT_FORMATS:
            raise InvalidRequestError(f"invalid export format {fmt!r}: use 'png', 'pdf' or 'svg'")
        query = self._export_query(params)
        response = self.request(
            "GET",
            f"/charts/{cid}/export/{fmt}",
            params=query,
            kind=OperationKind.EXPORT,
            timeout=timeout,
            deadline=deadline,
        )
        return response.content

    @overload
    def export_chart(
        self,
        chart_id: str,
        output: str = ...,
        *,
        filepath: None = None,
        display: Literal[False] = False,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> bytes: ...

    @overload
    def export_chart(
        self,
        chart_id: str,
        output: str = ...,
        *,
        filepath: str | os.PathLike[str],
        display: Literal[False] = False,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> Path: ...

    @overload
    def export_chart(
        self,
        chart_id: str,
        output: str = ...,
        *,
        filepath: str | os.PathLike[str] | None = None,
        display: Literal[True],
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> Any: ...

    def export_chart(
        self,
        chart_id: str,
        output: str = "png",
        *,
        filepath: str | os.PathLike[str] | None = None,
        display: bool = False,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> Any:
        """The chart exported as ``output`` (``"png"``, ``"pdf"`` or ``"svg"``).

        Export options, as community-style keywords or the API's names: ``width``,
        ``height`` (a number or ``"auto"``), ``plain``, ``zoom``, ``scale``, ``unit`` (px, mm,
        inch), ``mode`` (rgb, cmyk), ``border_width``/``borderWidth``,
        ``border_color``/``borderColor``, ``transparent``, ``logo`` (auto, on, off),
        ``logo_id``/``logoId``, ``dark``, ``full_vector``/``fullVector``, ``ligatures``,
        ``download``. Options left out are not sent, so the server's defaults apply; booleans
        go out as ``true``/``false``. Bad values raise
        :class:`~datawrapper.InvalidRequestError` before anything is sent.

        Returns the file's bytes. With ``filepath`` the bytes are written there (its suffix
        set to the format, as the community client did) and the :class:`~pathlib.Path` is
        returned; ``display=True`` returns an IPython ``Image`` (needs IPython). Uses the long
        ``"export"`` timeout.
        """
        content = self._export(chart_id, output, params, timeout, deadline)
        if filepath is None and not display:
            return content
        path = Path(filepath if filepath is not None else f"./image.{output}")
        path = path.with_suffix(f".{output}")
        path.write_bytes(content)
        if display:
            return _ipython_display("Image")(filename=str(path))
        return path

    def export_png(
        self,
        chart_id: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> bytes:
        """The chart as PNG bytes; ``params`` as for :meth:`export_chart`."""
        return self._export(chart_id, "png", params, timeout, deadline)

    def export_pdf(
        self,
        chart_id: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> bytes:
        """The chart as PDF bytes; ``params`` as for :meth:`export_chart`."""
        return self._export(chart_id, "pdf", params, timeout, deadline)

    def export_svg(
        self,
        chart_id: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> bytes:
        """The chart as SVG bytes; ``params`` as for :meth:`export_chart`."""
        return self._export(chart_id, "svg", params, timeout, deadline)

    # ------------------------------------------------------------------ folders

    def get_folders(
        self, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """The folders visible to the token (``GET /v3/folders``)."""
        result: dict[str, Any] = self._call(
            "GET", "/folders", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    def get_folder(
        self,
        folder_id: str | int,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One folder, with its charts (``GET /v3/folders/{id}``)."""
        fid = _int_id(folder_id, "folder_id")
        result: dict[str, Any] = self._call(
            "GET", f"/folders/{fid}", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    def create_folder(
        self,
        name: str,
        parent_id: str | int | None = None,
        team_id: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Create a folder (``POST /v3/folders``); the new folder. Never retried once sent."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequestError(f"folder name must be a non-empty string, got {name!r}")
        body = _body(
            name=name,
            parentId=_optional_int_id(parent_id or None, "parent_id"),
            teamId=team_id or None,
        )
        result: dict[str, Any] = self._call(
            "POST",
            "/folders",
            kind=OperationKind.WRITE,
            body=body,
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def update_folder(
        self,
        folder_id: str | int,
        name: str | None = None,
        parent_id: str | int | None = None,
        team_id: str | None = None,
        user_id: str | int | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Rename or move a folder (``PATCH /v3/folders/{id}``); the folder."""
        fid = _int_id(folder_id, "folder_id")
        body = _body(
            name=name or None,
            parentId=_optional_int_id(parent_id or None, "parent_id"),
            teamId=team_id or None,
            userId=_optional_int_id(user_id or None, "user_id"),
        )
        if not body:
            raise InvalidRequestError(
                "no updates submitted: pass name, parent_id, team_id or user_id"
            )
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/folders/{fid}",
            kind=OperationKind.WRITE,
            body=body,
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def delete_folder(
        self,
        folder_id: str | int,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Delete a folder (``DELETE /v3/folders/{id}``); True."""
        fid = _int_id(folder_id, "folder_id")
        self.request(
            "DELETE",
            f"/folders/{fid}",
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    # ------------------------------------------------------------------ themes and basemaps

    def get_themes(
        self,
        limit: int = 100,
        offset: int = 0,
        deleted: bool = False,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The themes available to the token (``GET /v3/themes``)."""
        params = {"limit": limit, "offset": offset, "deleted": bool(deleted)}
        result: dict[str, Any] = self._read("/themes", params, timeout=timeout, deadline=deadline)
        return result

    def get_theme(
        self, theme_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """One theme (``GET /v3/themes/{id}``)."""
        result: dict[str, Any] = self._read(
            f"/themes/{_segment(theme_id, 'theme_id')}", timeout=timeout, deadline=deadline
        )
        return result

    def get_basemaps(
        self, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> list[dict[str, Any]]:
        """The basemaps for maps (``GET /v3/basemaps``)."""
        result: list[dict[str, Any]] = self._call(
            "GET", "/basemaps", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    def get_basemap(
        self,
        basemap_id: str,
        wgs84: bool = False,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One basemap's metadata and geometry (``GET /v3/basemaps/{id}?wgs84=``)."""
        result: dict[str, Any] = self._call(
            "GET",
            f"/basemaps/{_segment(basemap_id, 'basemap_id')}",
            kind=OperationKind.READ,
            params={"wgs84": bool(wgs84)},
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def get_basemap_key(
        self,
        basemap_id: str,
        basemap_key: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Any:
        """The values of one key of a basemap (``GET /v3/basemaps/{id}/{key}``)."""
        return self._call(
            "GET",
            f"/basemaps/{_segment(basemap_id, 'basemap_id')}/{_segment(basemap_key, 'basemap_key')}",
            kind=OperationKind.READ,
            timeout=timeout,
            deadline=deadline,
        )

    # ------------------------------------------------------------------ me

    def get_my_account(
        self, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """The token's user (``GET /v3/me``)."""
        result: dict[str, Any] = self._call(
            "GET", "/me", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    def account_info(
        self, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """Deprecated name of :meth:`get_my_account`."""
        _deprecated("account_info", "get_my_account()")
        return self.get_my_account(timeout=timeout, deadline=deadline)

    @staticmethod
    def _user_fields(
        name: str | None,
        email: str | None,
        role: str | None,
        language: str | None,
        password: str | None,
        old_password: str | None,
    ) -> dict[str, Any]:
        if bool(password) != bool(old_password):
            raise InvalidRequestError(
                "to change a password pass both password= (the new one) and old_password="
            )
        return _body(
            name=name or None,
            email=email or None,
            role=role or None,
            language=language or None,
            password=password or None,
            oldPassword=old_password or None,
        )

    def update_my_account(
        self,
        name: str | None = None,
        email: str | None = None,
        role: str | None = None,
        language: str | None = None,
        password: str | None = None,
        old_password: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change the token's user (``PATCH /v3/me``); the user."""
        body = self._user_fields(name, email, role, language, password, old_password)
        if not body:
            raise InvalidRequestError(
                "no updates submitted: pass name, email, role, language or password"
            )
        result: dict[str, Any] = self._call(
            "PATCH", "/me", kind=OperationKind.WRITE, body=body, timeout=timeout, deadline=deadline
        )
        return result

    def update_my_settings(
        self,
        active_team: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change the token's user settings (``PATCH /v3/me/settings``); the settings."""
        if not active_team:
            raise InvalidRequestError("no updates submitted: pass active_team='team-id'")
        result: dict[str, Any] = self._call(
            "PATCH",
            "/me/settings",
            kind=OperationKind.WRITE,
            body={"activeTeam": active_team},
            timeout=timeout,
            deadline=deadline,
        )
        return result

    @staticmethod
    def _page(
        limit: int | None, offset: int | None, min_last_edit_step: int | str | None
    ) -> dict[str, Any]:
        return {
            "limit": limit or None,
            "offset": offset or None,
            "minLastEditStep": min_last_edit_step or None,
        }

    def get_my_recently_edited_charts(
        self,
        limit: int = 100,
        offset: int = 0,
        min_last_edit_step: int | str = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The token user's recently edited charts (``GET /v3/me/recently-edited-charts``)."""
        result: dict[str, Any] = self._call(
            "GET",
            "/me/recently-edited-charts",
            kind=OperationKind.READ,
            params=self._page(limit, offset, min_last_edit_step),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def get_my_recently_published_charts(
        self,
        limit: int = 100,
        offset: int = 0,
        min_last_edit_step: int | str = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The token user's recently published charts (``GET /v3/me/recently-published-charts``)."""
        result: dict[str, Any] = self._call(
            "GET",
            "/me/recently-published-charts",
            kind=OperationKind.READ,
            params=self._page(limit, offset, min_last_edit_step),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    # ------------------------------------------------------------------ users

    def get_users(
        self,
        team_id: str | None = None,
        search: str | None = None,
        order: str = "ASC",
        order_by: str = "id",
        limit: int = 100,
        offset: int = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Users visible to the token (``GET /v3/users``)."""
        params = {
            "teamId": team_id or None,
            "search": search or None,
            "order": order or None,
            "orderBy": order_by or None,
            "limit": limit or None,
            "offset": offset or None,
        }
        result: dict[str, Any] = self._read("/users", params, timeout=timeout, deadline=deadline)
        return result

    def get_user(
        self,
        user_id: str | int,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One user (``GET /v3/users/{id}``)."""
        uid = _int_id(user_id, "user_id")
        result: dict[str, Any] = self._call(
            "GET", f"/users/{uid}", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    def update_user(
        self,
        user_id: str | int,
        name: str | None = None,
        email: str | None = None,
        role: str | None = None,
        language: str | None = None,
        activate_token: str | None = None,
        password: str | None = None,
        old_password: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change a user (``PATCH /v3/users/{id}``); the user."""
        uid = _int_id(user_id, "user_id")
        body = self._user_fields(name, email, role, language, password, old_password)
        if activate_token:
            body["activateToken"] = activate_token
        if not body:
            raise InvalidRequestError(
                "no updates submitted: pass name, email, role, language, activate_token or password"
            )
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/users/{uid}",
            kind=OperationKind.WRITE,
            body=body,
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def update_settings(
        self,
        user_id: str | int,
        active_team: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change a user's settings (``PATCH /v3/users/{id}/settings``); the settings."""
        uid = _int_id(user_id, "user_id")
        if not active_team:
            raise InvalidRequestError("no updates submitted: pass active_team='team-id'")
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/users/{uid}/settings",
            kind=OperationKind.WRITE,
            body={"activeTeam": active_team},
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def get_recently_edited_charts(
        self,
        user_id: str | int,
        limit: int = 100,
        offset: int = 0,
        min_last_edit_step: int | str = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """A user's recently edited charts (``GET /v3/users/{id}/recently-edited-charts``)."""
        uid = _int_id(user_id, "user_id")
        result: dict[str, Any] = self._call(
            "GET",
            f"/users/{uid}/recently-edited-charts",
            kind=OperationKind.READ,
            params=self._page(limit, offset, min_last_edit_step),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def get_recently_published_charts(
        self,
        user_id: str | int,
        limit: int = 100,
        offset: int = 0,
        min_last_edit_step: int | str = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """A user's recently published charts (``GET /v3/users/{id}/recently-published-charts``)."""
        uid = _int_id(user_id, "user_id")
        result: dict[str, Any] = self._call(
            "GET",
            f"/users/{uid}/recently-published-charts",
            kind=OperationKind.READ,
            params=self._page(limit, offset, min_last_edit_step),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    # ------------------------------------------------------------------ workspaces and teams

    @staticmethod
    def _listing(
        search: str | None,
        order: str | None,
        order_by: str | None,
        limit: int | None,
        offset: int | None,
        **extra: Any,
    ) -> dict[str, Any]:
        params = {
            "search": search or None,
            "order": order or None,
            "orderBy": order_by or None,
            "limit": limit or None,
            "offset": offset or None,
        }
        params.update(extra)
        return params

    def _workspace_path(self, workspace_slug: str, *rest: str) -> str:
        path = f"/workspaces/{_segment(workspace_slug, 'workspace_slug')}"
        return path + "".join(f"/{part}" for part in rest)

    def get_workspaces(
        self,
        search: str | None = None,
        order: str = "ASC",
        order_by: str = "name",
        limit: int = 100,
        offset: int = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The token user's workspaces (``GET /v3/workspaces``)."""
        result: dict[str, Any] = self._call(
            "GET",
            "/workspaces",
            kind=OperationKind.READ,
            params=self._listing(search, order, order_by, limit, offset),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def get_workspace(
        self,
        workspace_slug: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One workspace (``GET /v3/workspaces/{slug}``)."""
        result: dict[str, Any] = self._read(
            self._workspace_path(workspace_slug), timeout=timeout, deadline=deadline
        )
        return result

    def create_workspace(
        self,
        name: str,
        slug: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Create a workspace (``POST /v3/workspaces``); the workspace. Never retried once sent."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequestError(f"workspace name must be a non-empty string, got {name!r}")
        result: dict[str, Any] = self._call(
            "POST",
            "/workspaces",
            kind=OperationKind.WRITE,
            body=_body(name=name, slug=slug or None),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def update_workspace(
        self,
        workspace_slug: str,
        name: str | None = None,
        slug: str | None = None,
        settings: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
        color: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change a workspace (``PATCH /v3/workspaces/{slug}``); the workspace."""
        body = _body(
            name=name or None,
            slug=slug or None,
            settings=dict(settings) if settings else None,
            secrets=dict(secrets) if secrets else None,
            color=color or None,
        )
        if not body:
            raise InvalidRequestError(
                "no updates submitted: pass name, slug, settings, secrets or color"
            )
        result: dict[str, Any] = self._call(
            "PATCH",
            self._workspace_path(workspace_slug),
            kind=OperationKind.WRITE,
            body=body,
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def delete_workspace(
        self,
        workspace_slug: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Delete a workspace (``DELETE /v3/workspaces/{slug}``); True."""
        self.request(
            "DELETE",
            self._workspace_path(workspace_slug),
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    def get_workspace_members(
        self,
        workspace_slug: str,
        search: str | None = None,
        order: str = "ASC",
        order_by: str = "name",
        limit: int = 100,
        offset: int = 0,
        role: str | None = None,
        include_invites: bool = False,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """A workspace's members (``GET /v3/workspaces/{slug}/members``)."""
        params = self._listing(
            search,
            order,
            order_by,
            limit,
            offset,
            role=role or None,
            includeInvites=True if include_invites else None,
        )
        result: dict[str, Any] = self._read(
            self._workspace_path(workspace_slug, "members"),
            params,
            timeout=timeout,
            deadline=deadline,
        )
        return result

    @staticmethod
    def _ids(values: Sequence[int | str], what: str) -> list[int]:
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise InvalidRequestError(
                f"{what} must be a non-empty list of user ids, got {values!r}"
            )
        return [_int_id(v, what) for v in values]

    def update_workspace_members(
        self,
        workspace_slug: str,
        member_ids: Sequence[int | str],
        role: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Any:
        """Set the role of workspace members (``PATCH /v3/workspaces/{slug}/members``)."""
        return self._call(
            "PATCH",
            self._workspace_path(workspace_slug, "members"),
            kind=OperationKind.WRITE,
            body={"memberIds": self._ids(member_ids, "member_ids"), "role": role},
            timeout=timeout,
            deadline=deadline,
        )

    def remove_workspace_members(
        self,
        workspace_slug: str,
        member_ids: Sequence[int | str],
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Remove members from a workspace (``DELETE /v3/workspaces/{slug}/members``); True."""
        self.request(
            "DELETE",
            self._workspace_path(workspace_slug, "members"),
            json={"memberIds": self._ids(member_ids, "member_ids")},
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    def get_workspace_teams(
        self,
        workspace_slug: str,
        search: str | None = None,
        order: str = "ASC",
        order_by: str = "name",
        limit: int = 100,
        offset: int = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """A workspace's teams (``GET /v3/workspaces/{slug}/teams``)."""
        result: dict[str, Any] = self._call(
            "GET",
            self._workspace_path(workspace_slug, "teams"),
            kind=OperationKind.READ,
            params=self._listing(search, order, order_by, limit, offset),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def get_workspace_team(
        self,
        workspace_slug: str,
        team_id: str,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """One team of a workspace (``GET /v3/workspaces/{slug}/teams/{team}``)."""
        result: dict[str, Any] = self._read(
            self._workspace_path(workspace_slug, "teams", _segment(team_id, "team_id")),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def create_workspace_team(
        self,
        workspace_slug: str,
        name: str,
        is_private: bool | None = None,
        icon: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Create a team in a workspace (``POST /v3/workspaces/{slug}/teams``); the team."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequestError(f"team name must be a non-empty string, got {name!r}")
        result: dict[str, Any] = self._call(
            "POST",
            self._workspace_path(workspace_slug, "teams"),
            kind=OperationKind.WRITE,
            body=_body(name=name, isPrivate=is_private, icon=icon or None),
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def update_workspace_team(
        self,
        workspace_slug: str,
        team_id: str,
        name: str | None = None,
        is_private: bool | None = None,
        settings: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
        icon: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Change a team (``PATCH /v3/workspaces/{slug}/teams/{team}``); the team."""
        body = _body(
            name=name or None,
            isPrivate=is_private,
            settings=dict(settings) if settings else None,
            secrets=dict(secrets) if secrets else None,
            icon=icon or None,
        )
        if not body:
            raise InvalidRequestError(
                "no updates submitted: pass name, is_private, settings, secrets or icon"
            )
        result: dict[str, Any] = self._call(
            "PATCH",
            self._workspace_path(workspace_slug, "teams", _segment(team_id, "team_id")),
            kind=OperationKind.WRITE,
            body=body,
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def delete_workspace_team(
        self,
        workspace_slug: str,
        team_id: str,
        migration_team_id: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Delete a team, moving its charts to ``migration_team_id`` if given; True."""
        self.request(
            "DELETE",
            self._workspace_path(workspace_slug, "teams", _segment(team_id, "team_id")),
            json=_body(migrationTeamId=migration_team_id) if migration_team_id else _UNSET,
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    def get_workspace_team_members(
        self,
        workspace_slug: str,
        team_id: str,
        search: str | None = None,
        order: str = "ASC",
        order_by: str = "name",
        limit: int = 100,
        offset: int = 0,
        role: str | None = None,
        include_invites: bool = False,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """A team's members (``GET /v3/workspaces/{slug}/teams/{team}/members``)."""
        params = self._listing(
            search,
            order,
            order_by,
            limit,
            offset,
            role=role or None,
            includeInvites=True if include_invites else None,
        )
        result: dict[str, Any] = self._read(
            self._workspace_path(workspace_slug, "teams", _segment(team_id, "team_id"), "members"),
            params,
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def add_workspace_team_members(
        self,
        workspace_slug: str,
        team_id: str,
        user_ids: Sequence[int | str],
        role: str = "member",
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Add users to a team (``POST /v3/workspaces/{slug}/teams/{team}/members``); True."""
        self.request(
            "POST",
            self._workspace_path(workspace_slug, "teams", _segment(team_id, "team_id"), "members"),
            json={"userIds": self._ids(user_ids, "user_ids"), "role": role},
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    def update_workspace_team_members(
        self,
        workspace_slug: str,
        team_id: str,
        member_ids: Sequence[int | str],
        role: str = "member",
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Any:
        """Set the team role of members (``PATCH .../teams/{team}/members``)."""
        return self._call(
            "PATCH",
            self._workspace_path(workspace_slug, "teams", _segment(team_id, "team_id"), "members"),
            kind=OperationKind.WRITE,
            body={"memberIds": self._ids(member_ids, "member_ids"), "role": role},
            timeout=timeout,
            deadline=deadline,
        )

    def remove_workspace_team_members(
        self,
        workspace_slug: str,
        team_id: str,
        member_ids: Sequence[int | str],
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Remove members from a team (``DELETE .../teams/{team}/members``); True."""
        self.request(
            "DELETE",
            self._workspace_path(workspace_slug, "teams", _segment(team_id, "team_id"), "members"),
            json={"memberIds": self._ids(member_ids, "member_ids")},
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    # ------------------------------------------------------------------ login and API tokens

    def get_login_tokens(
        self,
        limit: int = 100,
        offset: int = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The user's one-time login tokens (``GET /v3/auth/login-tokens``)."""
        result: dict[str, Any] = self._call(
            "GET",
            "/auth/login-tokens",
            kind=OperationKind.READ,
            params={"limit": limit or None, "offset": offset or None},
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def create_login_token(
        self, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """A new one-time login token, valid for five minutes (``POST /v3/auth/login-tokens``).

        Sent without a body, so without a Content-Type. Never retried once sent.
        """
        result: dict[str, Any] = self._call(
            "POST",
            "/auth/login-tokens",
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        if isinstance(result, dict):
            register_secret(result.get("token"))
        return result

    def delete_login_token(
        self,
        token_id: str | int,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Delete a login token (``DELETE /v3/auth/login-tokens/{id}``); True."""
        tid = _int_id(token_id, "token_id")
        self.request(
            "DELETE",
            f"/auth/login-tokens/{tid}",
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    def login(
        self, token: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> Any:
        """Log in with a one-time login token (``GET /v3/auth/login/{token}``).

        The API redirects to the page the token was made for; that page's content is returned.
        The token is treated as a secret: it never appears in logs or exceptions.
        """
        if not isinstance(token, str) or not token:
            raise InvalidRequestError("token must be the non-empty login token string")
        register_secret(token)
        return self._call(
            "GET",
            f"/auth/login/{_segment(token, 'token')}",
            kind=OperationKind.READ,
            timeout=timeout,
            deadline=deadline,
        )

    def get_api_tokens(
        self,
        limit: int = 100,
        offset: int = 0,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The user's API tokens, without their secrets (``GET /v3/auth/tokens``)."""
        result: dict[str, Any] = self._call(
            "GET",
            "/auth/tokens",
            kind=OperationKind.READ,
            params={"limit": limit or None, "offset": offset or None},
            timeout=timeout,
            deadline=deadline,
        )
        return result

    def create_api_token(
        self,
        comment: str,
        scopes: Sequence[str],
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Create an API token (``POST /v3/auth/tokens``); its JSON, with the secret ``token``.

        Save the secret: the API never shows it again. It is registered for redaction, so it
        never appears in this library's logs or exceptions. Never retried once sent.
        """
        if isinstance(scopes, str) or not isinstance(scopes, Sequence):
            raise InvalidRequestError(
                f"scopes must be a list of scope names such as ['chart:read'], got {scopes!r}"
            )
        result: dict[str, Any] = self._call(
            "POST",
            "/auth/tokens",
            kind=OperationKind.WRITE,
            body={"comment": comment, "scopes": list(scopes)},
            timeout=timeout,
            deadline=deadline,
        )
        if isinstance(result, dict):
            register_secret(result.get("token"))
        return result

    def update_api_token(
        self,
        id: str | int,  # the community client's parameter name
        comment: str,
        scopes: Sequence[str] | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Change an API token's comment and scopes (``PUT /v3/auth/tokens/{id}``); True."""
        tid = _int_id(id, "id")
        body: dict[str, Any] = {"comment": comment}
        if scopes:
            body["scopes"] = list(scopes)
        self.request(
            "PUT",
            f"/auth/tokens/{tid}",
            json=body,
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    def delete_api_token(
        self,
        token_id: str | int,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Delete an API token (``DELETE /v3/auth/tokens/{id}``); True."""
        tid = _int_id(token_id, "token_id")
        self.request(
            "DELETE",
            f"/auth/tokens/{tid}",
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True

    def get_token_scopes(
        self, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> list[str]:
        """The scopes an API token can have (``GET /v3/auth/token-scopes``)."""
        result: list[str] = self._call(
            "GET", "/auth/token-scopes", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    # ------------------------------------------------------------------ oEmbed and River

    def get_oembed(
        self,
        url: str,
        max_width: int | None = None,
        max_height: int | None = None,
        iframe: bool | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The oEmbed document of a published chart URL (``GET /v3/oembed``)."""
        if not isinstance(url, str) or not url:
            raise InvalidRequestError("url must be the published chart's URL")
        params = {
            "url": url,
            "format": "json",
            "maxwidth": max_width,
            "maxheight": max_height,
            "iframe": iframe,
        }
        result: dict[str, Any] = self._read("/oembed", params, timeout=timeout, deadline=deadline)
        return result

    def get_river(
        self,
        approved: bool | None = None,
        limit: int = 100,
        offset: int = 0,
        search: str | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Charts shared in the River (``GET /v3/river``)."""
        params = {
            "approved": approved,
            "limit": limit or None,
            "offset": offset or None,
            "search": search or None,
        }
        result: dict[str, Any] = self._read("/river", params, timeout=timeout, deadline=deadline)
        return result

    def get_river_chart(
        self, chart_id: str, *, timeout: TimeoutLike | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """One River chart (``GET /v3/river/{id}``)."""
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._call(
            "GET", f"/river/{cid}", kind=OperationKind.READ, timeout=timeout, deadline=deadline
        )
        return result

    def update_river_chart(
        self,
        chart_id: str,
        description: str | None = None,
        byline: str | None = None,
        tags: Sequence[str] | None = None,
        forkable: bool | None = None,
        *,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **fields: Any,
    ) -> bool:
        """Change a River chart's description, byline, tags ... (``PUT /v3/river/{id}``); True.

        Only the fields given are sent; booleans go out as JSON booleans (the community
        client sent ``"true"`` strings). Further API fields may be passed as keywords.
        """
        cid = check_chart_id(chart_id)
        body = _body(
            description=description,
            byline=byline,
            tags=list(tags) if tags is not None else None,
            forkable=forkable,
            **fields,
        )
        if not body:
            raise InvalidRequestError(
                "no updates submitted: pass description, byline, tags or forkable"
            )
        self.request(
            "PUT",
            f"/river/{cid}",
            json=body,
            kind=OperationKind.WRITE,
            timeout=timeout,
            deadline=deadline,
        )
        return True
