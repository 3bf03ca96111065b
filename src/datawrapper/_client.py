"""The :class:`Datawrapper` client: configuration, the one request path, and the API methods."""

from __future__ import annotations

import json as jsonlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from ._data import csv_from_data, to_dataframe
from ._exceptions import InvalidRequestError, MissingTokenError
from ._hooks import Hook, normalize_hooks
from ._ratelimit import RateLimiter
from ._redact import redact_url, register_secret
from .transport._base import Transport, VerifyTypes, create_transport
from .transport._config import PoolConfig, RetryPolicy, Timeout
from .transport._models import Headers, Request, Response
from .transport._retry import RetryEngine

__all__ = ["DEFAULT_BASE_URL", "Datawrapper"]

logger = logging.getLogger("datawrapper.client")

DEFAULT_BASE_URL = "https://api.datawrapper.de"
_CHART_ID = re.compile(r"^[0-9A-Za-z]{5}$")
_USER_AGENT = "datawrapper-python/0.1.0"
_UNSET: Any = object()


def check_chart_id(chart_id: object) -> str:
    """``chart_id`` if it can be a Datawrapper chart id, else :class:`InvalidRequestError`."""
    if not isinstance(chart_id, str) or not _CHART_ID.match(chart_id):
        raise InvalidRequestError(
            f"invalid chart id {chart_id!r}: Datawrapper chart ids are 5 characters of "
            "0-9, A-Z and a-z, such as 'aBc12'"
        )
    return chart_id


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Datawrapper:
    """A client of the Datawrapper API v3 over pooled connections, with retries.

    ``Datawrapper()`` reads the token from ``DATAWRAPPER_ACCESS_TOKEN`` (at construction) and
    the base URL from ``DATAWRAPPER_BASE_URL`` (default ``https://api.datawrapper.de``).
    Everything else is keyword-only:

    - ``transport``: ``"requests"`` (default), ``"httpx"``, ``"urllib3"`` or any object with
      ``send(request, *, timeout)`` and ``close()`` (e.g. :class:`~datawrapper.MockTransport`).
    - ``retry``: a :class:`~datawrapper.RetryPolicy`; the shorthands ``max_retries``,
      ``backoff_factor``, ``retry_on`` and ``deadline`` override its fields.
    - ``timeout``: a :class:`~datawrapper.Timeout` (or seconds) for every attempt.
    - ``pool``: a :class:`~datawrapper.PoolConfig`; ``verify``: True, False or a CA bundle path.
    - ``hooks``: callables receiving an :class:`~datawrapper.Event` per request, response,
      retry and error; ``rate_limiter``: a :class:`~datawrapper.RateLimiter` paced before
      every attempt.
    - ``sleep``, ``clock``, ``random``: injected into the retry engine (for tests).

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
            import dataclasses

            policy = dataclasses.replace(policy, **overrides)
        self.retry = policy
        self.timeout = timeout if isinstance(timeout, Timeout) else Timeout(timeout)

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
    ) -> Response:
        """Send one API call (with retries) and return its response; raise on failure.

        ``path`` is relative to ``/v3`` (e.g. ``"/charts"``). ``json`` is serialised as the
        body with ``Content-Type: application/json``; ``content`` sends raw bytes with
        ``content_type``. A call without a body sends no Content-Type.
        """
        if self._closed:
            raise RuntimeError("this Datawrapper client is closed; create a new one")
        if not self._token:
            raise MissingTokenError(
                "no Datawrapper API token: pass Datawrapper(access_token=...) or set the "
                "DATAWRAPPER_ACCESS_TOKEN environment variable"
            )
        fields: list[tuple[str, str]] = [
            ("Authorization", f"Bearer {self._token}"),
            ("Accept", "*/*"),
            ("User-Agent", _USER_AGENT),
        ]
        body = b""
        if json is not _UNSET:
            if content is not None:
                raise InvalidRequestError("pass either json= or content=, not both")
            body = jsonlib.dumps(json, ensure_ascii=False, allow_nan=False).encode("utf-8")
            fields.append(("Content-Type", "application/json"))
        elif content is not None:
            body = content
            fields.append(("Content-Type", content_type or "application/octet-stream"))
        header_obj = Headers(fields)
        if headers:
            header_obj = header_obj.merged(headers)
        request = Request(method, self._url(path, params), header_obj, body)
        if timeout is None:
            limits = self.timeout
        else:
            limits = timeout if isinstance(timeout, Timeout) else Timeout(timeout)
        return self.send(request, timeout=limits, idempotent=idempotent, deadline=deadline)

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
        never sent to another server.
        """
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
                deadline=deadline,
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
        """JSON for a JSON body, ``True`` for an empty body, text for text, else bytes."""
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
        return response.content

    # ------------------------------------------------------------------ charts

    def get_charts(
        self,
        *,
        user_id: str | None = None,
        published: bool | None = None,
        search: str | None = None,
        order: str | None = None,
        order_by: str | None = None,
        limit: int = 25,
        folder_id: str | int | None = None,
        team_id: str | None = None,
        timeout: Timeout | float | None = None,
    ) -> list[dict[str, Any]]:
        """The charts visible to the token (``GET /v3/charts``), filtered as given."""
        params = {
            "userId": user_id,
            "published": published,
            "search": search,
            "order": order,
            "orderBy": order_by,
            "limit": limit,
            "folderId": folder_id,
            "teamId": team_id,
        }
        result = self._decode(self.request("GET", "/charts", params=params, timeout=timeout))
        return list(result.get("list", [])) if isinstance(result, dict) else []

    def create_chart(
        self,
        title: str = "New Chart",
        chart_type: str = "d3-bars",
        data: Any = None,
        folder_id: str | int | None = None,
        organization_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        theme: str | None = None,
        language: str | None = None,
        forkable: bool | None = None,
        external_data: str | None = None,
        timeout: Timeout | float | None = None,
    ) -> dict[str, Any]:
        """Create a chart (``POST /v3/charts``) and upload ``data`` if given; return its JSON.

        The creation is never retried after it may have reached the server, so one call makes
        at most one chart. If the data upload then fails, :class:`PartialFailureError` names
        the chart that was created.
        """
        body: dict[str, Any] = {"title": title, "type": chart_type}
        for key, value in (
            ("folderId", folder_id),
            ("organizationId", organization_id),
            ("theme", theme),
            ("language", language),
            ("forkable", forkable),
            ("externalData", external_data),
        ):
            if value is not None:
                body[key] = value
        if metadata is not None:
            body["metadata"] = dict(metadata)
        chart: dict[str, Any] = self._decode(
            self.request("POST", "/charts", json=body, idempotent=False, timeout=timeout)
        )
        if data is not None:
            self._upload_after_create(chart["id"], data)
        return chart

    def _upload_after_create(self, chart_id: str, data: Any) -> None:
        from ._exceptions import DatawrapperError, PartialFailureError

        try:
            self.add_data(chart_id, data)
        except DatawrapperError as exc:
            raise PartialFailureError(
                f"chart {chart_id} was created, but uploading its data failed: {exc.message}. "
                f"Retry with add_data({chart_id!r}, data) or delete_chart({chart_id!r})",
                chart_id=chart_id,
                step="add_data",
            ) from exc

    def chart_properties(
        self, chart_id: str, *, timeout: Timeout | float | None = None
    ) -> dict[str, Any]:
        """The chart's JSON (``GET /v3/charts/{id}``)."""
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._decode(
            self.request("GET", f"/charts/{cid}", timeout=timeout)
        )
        return result

    def get_chart(self, chart_id: str, *, timeout: Timeout | float | None = None) -> dict[str, Any]:
        """Alias of :meth:`chart_properties`."""
        return self.chart_properties(chart_id, timeout=timeout)

    def update_chart(
        self,
        chart_id: str,
        title: str | None = None,
        chart_type: str | None = None,
        data: Any = None,
        folder_id: str | int | None = None,
        organization_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        theme: str | None = None,
        language: str | None = None,
        timeout: Timeout | float | None = None,
    ) -> dict[str, Any]:
        """Change a chart (``PATCH /v3/charts/{id}``, metadata deep-merged); upload ``data``."""
        cid = check_chart_id(chart_id)
        body: dict[str, Any] = {}
        for key, value in (
            ("title", title),
            ("type", chart_type),
            ("folderId", folder_id),
            ("organizationId", organization_id),
            ("theme", theme),
            ("language", language),
        ):
            if value is not None:
                body[key] = value
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if not body and data is None:
            raise InvalidRequestError(
                "no updates submitted: pass at least one of title, chart_type, data, folder_id, "
                "organization_id, metadata, theme or language"
            )
        result: dict[str, Any] = {}
        if body:
            result = self._decode(
                self.request("PATCH", f"/charts/{cid}", json=body, timeout=timeout)
            )
        if data is not None:
            self.add_data(cid, data, timeout=timeout)
            if not result:
                result = self.chart_properties(cid)
        return result

    def add_data(self, chart_id: str, data: Any, *, timeout: Timeout | float | None = None) -> bool:
        """Replace the chart's data (``PUT /v3/charts/{id}/data``) with CSV made from ``data``."""
        cid = check_chart_id(chart_id)
        body = csv_from_data(data)
        self.request(
            "PUT",
            f"/charts/{cid}/data",
            content=body,
            content_type="text/csv; charset=utf-8",
            timeout=timeout,
        )
        return True

    def get_data(
        self,
        chart_id: str,
        *,
        as_dataframe: bool = False,
        timeout: Timeout | float | None = None,
    ) -> Any:
        """The chart's data (``GET /v3/charts/{id}/data``): CSV text, or a DataFrame if asked."""
        cid = check_chart_id(chart_id)
        response = self.request("GET", f"/charts/{cid}/data", timeout=timeout)
        if "json" in response.content_type:
            return response.json()
        text = response.text
        return to_dataframe(text) if as_dataframe else text

    def publish_chart(
        self, chart_id: str, *, timeout: Timeout | float | None = None
    ) -> dict[str, Any]:
        """Publish the chart (``POST /v3/charts/{id}/publish``); return the API's answer.

        Publishing twice only bumps the public version, so this POST is retried like a PUT.
        """
        cid = check_chart_id(chart_id)
        result: dict[str, Any] = self._decode(
            self.request("POST", f"/charts/{cid}/publish", idempotent=True, timeout=timeout)
        )
        return result

    def export_chart(
        self,
        chart_id: str,
        output: str = "png",
        *,
        filepath: str | os.PathLike[str] | None = None,
        timeout: Timeout | float | None = None,
        **params: Any,
    ) -> bytes:
        """The chart exported as ``output`` (png, pdf or svg), as bytes.

        Keyword ``params`` are the export options (width, height, plain, zoom, scale, unit,
        mode, borderWidth, borderColor, transparent, logo, dark ...). With ``filepath`` the
        bytes are also written to that file.
        """
        cid = check_chart_id(chart_id)
        if output not in ("png", "pdf", "svg"):
            raise InvalidRequestError(
                f"invalid export format {output!r}: use 'png', 'pdf' or 'svg'"
            )
        response = self.request(
            "GET", f"/charts/{cid}/export/{quote(output)}", params=params, timeout=timeout
        )
        if filepath is not None:
            Path(filepath).write_bytes(response.content)
        return response.content

    def delete_chart(self, chart_id: str, *, timeout: Timeout | float | None = None) -> bool:
        """Delete the chart (``DELETE /v3/charts/{id}``)."""
        cid = check_chart_id(chart_id)
        self.request("DELETE", f"/charts/{cid}", timeout=timeout)
        return True
