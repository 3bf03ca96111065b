"""An in-memory, stateful fake of the Datawrapper REST API v3, callable in-process."""

from __future__ import annotations

import copy
import html
import json
import math
import random
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from ..transport._models import Headers, Request, Response

__all__ = ["CHART_TYPES", "EXPORT_FORMATS", "FakeDatawrapperAPI", "LoggedRequest"]

JSON = dict[str, Any]

#: Chart type ids accepted on create and update (developer.datawrapper.de/docs/chart-types,
#: plus ``multiple-columns``, which the community client uses).
CHART_TYPES: frozenset[str] = frozenset(
    [
        "d3-bars",
        "d3-bars-split",
        "d3-bars-stacked",
        "d3-bars-bullet",
        "d3-dot-plot",
        "d3-range-plot",
        "d3-arrow-plot",
        "column-chart",
        "grouped-column-chart",
        "stacked-column-chart",
        "d3-area",
        "d3-lines",
        "multiple-lines",
        "d3-pies",
        "d3-donuts",
        "d3-multiple-pies",
        "d3-multiple-donuts",
        "d3-scatter-plot",
        "election-donut-chart",
        "tables",
        "d3-maps-choropleth",
        "d3-maps-symbols",
        "locator-map",
        "multiple-columns",
    ]
)

#: Export formats and the content type of each.
EXPORT_FORMATS: Mapping[str, str] = {
    "png": "image/png",
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
}

#: Exported images are never larger than this many pixels on a side (the IHDR is capped).
MAX_EXPORT_SIDE = 4000

_CDN = "https://datawrapper.dwcdn.net"
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHART_ID = re.compile(r"[0-9A-Za-z]{5}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_JSON_TYPE = "application/json; charset=utf-8"
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
}
_PHRASES = {
    "any.required": "is required",
    "any.only": "must be one of the allowed values",
    "any.invalid": "contains an invalid value",
    "object.base": "must be of type object",
    "object.unknown": "is not allowed",
    "string.base": "must be a string",
    "string.empty": "is not allowed to be empty",
    "string.length": "length must be 5 characters long",
    "string.pattern.base": "fails to match the required pattern",
    "string.email": "must be a valid email",
    "number.base": "must be a number",
    "number.integer": "must be an integer",
    "number.min": "is below the minimum",
    "boolean.base": "must be a boolean",
    "array.base": "must be an array",
    "array.min": "must contain at least 1 item",
    "object.nand": "must not be sent together with a non-null teamId",
}
_TOKEN_SCOPES = tuple(
    [
        "auth:read",
        "auth:write",
        "chart:read",
        "chart:write",
        "folder:read",
        "folder:write",
        "team:read",
        "team:write",
        "theme:read",
        "user:read",
        "user:write",
        "visualization:read",
        "workspace:read",
        "workspace:write",
    ]
)
# Workspace roles are member/manager/admin (plus the creating owner); team roles manager/member.
_ROLES = ("owner", "admin", "manager", "member")
# Chart fields that clients may send back unchanged (e.g. a PUT of a fetched chart): ignored.
_READ_ONLY_CHART_FIELDS = frozenset(
    [
        "id",
        "publicId",
        "publishedAt",
        "publicUrl",
        "publicVersion",
        "deleted",
        "deletedAt",
        "isFork",
        "forkedFrom",
        "utf8",
        "createdAt",
        "lastModifiedAt",
        "authorId",
        "author",
        "url",
        "guestSession",
        "keywords",
        "chartHash",
    ]
)

# --------------------------------------------------------------------------- value checks

_Check = tuple[Callable[[Any], bool], str]


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_any(v: Any) -> bool:
    return True


def _opt(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


_STR: _Check = (_is_str, "string.base")
_OPT_STR: _Check = (_opt(_is_str), "string.base")
_BOOL: _Check = (_is_bool, "boolean.base")
_INT: _Check = (_is_int, "number.base")
_OPT_INT: _Check = (_opt(_is_int), "number.base")
_OBJ: _Check = (_is_dict, "object.base")
_STR_LIST: _Check = (_is_str_list, "array.base")
_ANY: _Check = (_is_any, "any.invalid")

_CHART_SPEC: dict[str, _Check] = {
    "title": _STR,
    "type": _STR,
    "theme": _STR,
    "language": _STR,
    "folderId": _OPT_INT,
    "organizationId": _OPT_STR,
    "forkable": _BOOL,
    "externalData": _OPT_STR,
    "lastEditStep": _INT,
    "metadata": _OBJ,
}


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake received; the Authorization value is redacted."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class _HTTPError(Exception):
    """Raised inside a handler to answer with a Boom error body."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        details: list[JSON] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or _REASONS.get(status, "Error")
        self.details = details
        self.headers = dict(headers or {})


def _invalid(where: str, details: list[JSON]) -> _HTTPError:
    first = details[0]
    name = first["path"] or "value"
    phrase = _PHRASES.get(first["type"], "is invalid")
    return _HTTPError(400, f'Invalid request {where} input: "{name}" {phrase}', details=details)


def _validate_object(
    body: Any,
    spec: Mapping[str, _Check],
    *,
    required: Iterable[str] = (),
    ignored: Iterable[str] = (),
) -> JSON:
    """The fields of a JSON payload that ``spec`` knows, or a 400 validation error."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _invalid("payload", [{"path": "", "type": "object.base"}])
    skip = set(ignored)
    details = [{"path": name, "type": "any.required"} for name in required if name not in body]
    for key, value in body.items():
        if key in skip:
            continue
        if key not in spec:
            details.append({"path": key, "type": "object.unknown"})
            continue
        check, error_type = spec[key]
        if not check(value):
            details.append({"path": key, "type": error_type})
    if details:
        raise _invalid("payload", details)
    return {k: v for k, v in body.items() if k in spec}


class _Query:
    """Typed access to query parameters that collects Joi-like validation details."""

    def __init__(self, query: Mapping[str, str]) -> None:
        self.raw = query
        self.details: list[JSON] = []

    def _fail(self, name: str, error_type: str) -> None:
        self.details.append({"path": name, "type": error_type})

    def integer(self, name: str, default: int | None, minimum: int = 0) -> int | None:
        text = self.raw.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            self._fail(name, "number.base")
            return default
        if value < minimum:
            self._fail(name, "number.min")
            return default
        return value

    def number(self, name: str, minimum: float | None = None) -> float | int | None:
        text = self.raw.get(name)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            self._fail(name, "number.base")
            return None
        if not math.isfinite(value):
            self._fail(name, "number.base")
            return None
        if minimum is not None and value < minimum:
            self._fail(name, "number.min")
            return None
        return int(value) if value.is_integer() else value

    def boolean(self, name: str) -> bool | None:
        text = self.raw.get(name)
        if text is None:
            return None
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        self._fail(name, "boolean.base")
        return None

    def choice(self, name: str, choices: Iterable[str], default: str | None) -> str | None:
        text = self.raw.get(name)
        if text is None:
            return default
        if text not in tuple(choices):
            self._fail(name, "any.only")
            return default
        return text

    def string(self, name: str) -> str | None:
        text = self.raw.get(name)
        if text is not None and not text:
            self._fail(name, "string.empty")
            return None
        return text

    def check(self, allowed: Iterable[str] | None = None) -> None:
        if allowed is not None:
            known = set(allowed)
            for name in self.raw:
                if name not in known:
                    self._fail(name, "object.unknown")
        if self.details:
            raise _invalid("query", self.details)


@dataclass
class _Ctx:
    request: Request
    query: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)


Handler = Callable[[_Ctx], Response]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    public: bool = False


# --------------------------------------------------------------------------- small helpers


def _deep_merge(base: Any, patch: Any) -> Any:
    """``patch`` merged into a copy of ``base``: dicts merge recursively, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        merged[key] = _deep_merge(merged.get(key), value) if key in merged else copy.deepcopy(value)
    return merged


def _json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    fields = {"content-type": _JSON_TYPE, **(headers or {})}
    return Response(status, Headers(fields), json.dumps(body, ensure_ascii=False).encode("utf-8"))


def _empty(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, Headers(dict(headers or {})), b"")


def _boom(error: _HTTPError) -> Response:
    body: JSON = {
        "statusCode": error.status,
        "error": _REASONS.get(error.status, "Error"),
        "message": error.message,
    }
    if error.details is not None:
        body["type"] = "validation-error"
        body["details"] = error.details
    return _json_response(error.status, body, error.headers)


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _page(
    items: list[JSON], query: _Query, default_limit: int = 100
) -> tuple[list[JSON], int, int]:
    limit = query.integer("limit", default_limit, minimum=1) or default_limit
    offset = query.integer("offset", 0) or 0
    return items[offset : offset + limit], limit, offset


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def _id_list(body: JSON, name: str) -> list[int]:
    """``body[name]`` as a list of user ids (duplicates dropped), or a 400 validation error.

    The list must be a non-empty JSON array of positive integers; the details name the
    first bad element as ``"<name>.<index>"``, the way Joi reports array items.
    """
    value = body[name]
    if not isinstance(value, list):
        raise _invalid("payload", [{"path": name, "type": "array.base"}])
    if not value:
        raise _invalid("payload", [{"path": name, "type": "array.min"}])
    for index, item in enumerate(value):
        if not _is_int(item):
            raise _invalid("payload", [{"path": f"{name}.{index}", "type": "number.base"}])
        if item < 1:
            raise _invalid("payload", [{"path": f"{name}.{index}", "type": "number.min"}])
    return list(dict.fromkeys(value))


def _ids_text(ids: Iterable[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _find_member(members: Mapping[int, JSON], body: JSON) -> int | None:
    if "userId" in body:
        user_id = body["userId"]
        return user_id if user_id in members else None
    return next((uid for uid, m in members.items() if m.get("email") == body.get("email")), None)


# --------------------------------------------------------------------------- export files


def _png(width: int, height: int, *, transparent: bool = False, dark: bool = False) -> bytes:
    """A valid 1-bit greyscale PNG of ``width`` x ``height`` pixels (compresses to a few KB)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + (b"\x00" if dark else b"\xff") * ((width + 7) // 8)
    body = chunk(b"IHDR", header)
    if transparent:
        body += chunk(b"tRNS", struct.pack(">H", 0 if dark else 1))
    body += chunk(b"IDAT", zlib.compress(row * height, 6))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def _pdf(width_pt: float, height_pt: float, title: str) -> bytes:
    """A valid one-page PDF 1.4 with a correct cross-reference table."""
    safe_title = "".join(
        c if 32 <= ord(c) < 127 and c not in "\\()" else "?" for c in title
    ).encode("ascii")
    content = f"0.95 g 0 0 {width_pt:.2f} {height_pt:.2f} re f".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt:.2f} {height_pt:.2f}] "
        "/Contents 4 0 R /Resources << >> >>".encode("ascii"),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Title (%s) /Producer (datawrapper.testing) >>" % safe_title,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _svg(
    width: float, height: float, unit: str, title: str, *, transparent: bool, dark: bool
) -> bytes:
    suffix = {"px": "", "mm": "mm", "inch": "in"}[unit]
    fill = "#191919" if dark else "#ffffff"
    rect = "" if transparent else f'<rect width="100%" height="100%" fill="{fill}"/>'
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}{suffix}" '
        f'height="{height:g}{suffix}" viewBox="0 0 {width:g} {height:g}">'
        f"<title>{html.escape(title)}</title>{rect}</svg>\n"
    )
    return text.encode("utf-8")


# --------------------------------------------------------------------------- the application


class FakeDatawrapperAPI:
    """Test your Datawrapper automation offline: a stateful, in-memory Datawrapper API v3.

    The fake is a plain callable, ``api(request) -> response``, over the package's
    :class:`~datawrapper.transport.Request` and :class:`~datawrapper.transport.Response`, so it
    runs in-process behind ``MockTransport(api)`` or behind a loopback server, with no network.
    It keeps charts (with data, publishing, copies, forks and exports), folders, a user,
    workspaces and teams, themes, basemaps, API and login tokens, oEmbed and the River, and
    answers with the status codes and JSON shapes of the real API, errors included (Hapi Boom
    bodies, ``"type": "validation-error"`` with ``details`` for bad input).

    Introspect the state in tests: :attr:`charts` (id -> chart JSON, deleted charts stay with
    ``deleted: True``), :attr:`chart_data` (id -> ``(bytes, content_type)``), :attr:`folders`,
    :attr:`user`, :attr:`log` (every request as a :class:`LoggedRequest`, token redacted),
    :attr:`created_count` (successful ``POST /charts``) and :attr:`copies_count` (copies and
    forks). :meth:`add_token` / :meth:`remove_token` change the accepted Bearer tokens, e.g. to
    provoke a 401 mid-session; :meth:`reset` returns to the freshly constructed state.

    ``id_seed`` makes chart ids deterministic; ``clock`` (returning a :class:`datetime`) sets
    every timestamp. Thread-safe: one lock serialises all requests. Exported files are tiny but
    valid PNG, PDF and SVG files of the requested size, with the parsed export parameters
    echoed as JSON in the ``X-Fake-Export-Params`` header.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] = ("test-token",),
        user: Mapping[str, Any] | None = None,
        base_path: str = "/v3",
        max_data_bytes: int = 2 * 1024 * 1024,
        id_seed: int | str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._initial_tokens = frozenset(tokens)
        self._initial_user = dict(user or {})
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.max_data_bytes = max_data_bytes
        self._id_seed = id_seed
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone.utc))
        self._lock = threading.RLock()
        self._routes = self._build_routes()
        self.reset()

    # ------------------------------------------------------------------ state and helpers

    def reset(self) -> None:
        """Forget every chart, folder, request and token change: back to the initial state."""
        with self._lock:
            self._rng = random.Random(self._id_seed)
            self.tokens: set[str] = set(self._initial_tokens)
            now = self._now()
            self.user: JSON = {
                "id": 1,
                "email": "test@example.com",
                "name": "Test User",
                "role": "editor",
                "language": "en-US",
                "createdAt": now,
                **copy.deepcopy(self._initial_user),
            }
            self.users: dict[int, JSON] = {int(self.user["id"]): self.user}
            self.user_settings: dict[int, JSON] = {int(self.user["id"]): {"activeTeam": None}}
            self.charts: dict[str, JSON] = {}
            self.chart_data: dict[str, tuple[bytes, str]] = {}
            self.folders: dict[int, JSON] = {}
            self.workspaces: dict[str, JSON] = {}
            self.api_tokens: dict[int, JSON] = {}
            self.login_tokens: dict[int, JSON] = {}
            self.river: dict[str, JSON] = {}
            self.themes: dict[str, JSON] = {
                theme_id: {
                    "id": theme_id,
                    "title": title,
                    "extend": extend,
                    "data": {},
                    "createdAt": now,
                }
                for theme_id, title, extend in (
                    ("datawrapper", "Datawrapper", None),
                    ("datawrapper-data", "Datawrapper (data vis only)", "datawrapper"),
                    ("datawrapper-high-contrast", "Datawrapper (high contrast)", "datawrapper"),
                    ("default", "Default", None),
                )
            }
            self.basemaps: dict[str, JSON] = {
                "world-2019": {
                    "id": "world-2019",
                    "title": "World",
                    "keys": {"name": ["France", "Germany", "Spain"], "iso3": ["FRA", "DEU", "ESP"]},
                },
                "germany-states": {
                    "id": "germany-states",
                    "title": "Germany » States",
                    "keys": {"name": ["Berlin", "Bayern", "Hamburg"], "ags": ["11", "09", "02"]},
                },
            }
            self.log: list[LoggedRequest] = []
            self.created_count = 0
            self.copies_count = 0
            self._order: dict[str, int] = {}
            self._sequence = 0
            self._next_ids = {"folder": 1, "user": int(self.user["id"]) + 1, "token": 1, "login": 1}

    def add_token(self, token: str) -> None:
        """Accept ``token`` as a Bearer token from now on."""
        with self._lock:
            self.tokens.add(token)

    def remove_token(self, token: str) -> None:
        """Stop accepting ``token``: later requests with it get 401."""
        with self._lock:
            self.tokens.discard(token)

    def _now(self, delta: timedelta = timedelta(0)) -> str:
        """The clock's time plus ``delta`` as ISO 8601 UTC with milliseconds and ``Z``."""
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = (moment + delta).astimezone(timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def _next_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] = value + 1
        return value

    def _new_chart_id(self) -> str:
        while True:
            chart_id = "".join(self._rng.choice(_ID_ALPHABET) for _ in range(5))
            if chart_id not in self.charts:
                return chart_id

    # ------------------------------------------------------------------ entry point

    def __call__(self, request: Request) -> Response:
        """Answer ``request`` (the same as :meth:`handle`)."""
        return self.handle(request)

    def handle(self, request: Request) -> Response:
        """Answer ``request`` as the Datawrapper API would, updating the in-memory state."""
        query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
        with self._lock:
            self.log.append(
                LoggedRequest(
                    method=request.method,
                    path=request.path,
                    query=query,
                    headers=self._redacted_headers(request.headers),
                    body=request.content,
                )
            )
            try:
                route, params = self._match(request.method, request.path)
                if not route.public:
                    self._authenticate(request.headers)
                response = route.handler(_Ctx(request, query, params))
            except _HTTPError as error:
                response = _boom(error)
        return response

    @staticmethod
    def _redacted_headers(headers: Headers) -> dict[str, str]:
        result = {}
        for name in headers:
            value = headers[name]
            if name.lower() == "authorization":
                scheme = value.split(" ", 1)[0] if " " in value else ""
                value = f"{scheme} [REDACTED]" if scheme else "[REDACTED]"
            elif name.lower() in ("cookie", "proxy-authorization"):
                value = "[REDACTED]"
            result[name] = value
        return result

    def _authenticate(self, headers: Headers) -> None:
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            raise _HTTPError(401, "Invalid authentication credentials")

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]]:
        if not path.startswith(self.base_path + "/"):
            raise _HTTPError(404)
        local = path[len(self.base_path) :]
        allowed = []
        for route in self._routes:
            found = route.pattern.fullmatch(local)
            if found is None:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise _HTTPError(405, headers={"Allow": ", ".join(sorted(set(allowed)))})
        raise _HTTPError(404)

    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, Handler]] = [
            # charts
            ("GET", "/charts", self._list_charts),
            ("POST", "/charts", self._create_chart),
            ("GET", "/charts/{chart_id}", self._get_chart),
            ("PATCH", "/charts/{chart_id}", self._update_chart),
            ("PUT", "/charts/{chart_id}", self._update_chart),
            ("DELETE", "/charts/{chart_id}", self._delete_chart),
            ("GET", "/charts/{chart_id}/data", self._get_data),
            ("PUT", "/charts/{chart_id}/data", self._put_data),
            ("POST", "/charts/{chart_id}/data/refresh", self._refresh_data),
            ("POST", "/charts/{chart_id}/publish", self._publish),
            ("POST", "/charts/{chart_id}/unpublish", self._unpublish),
            ("POST", "/charts/{chart_id}/copy", self._copy_chart),
            ("POST", "/charts/{chart_id}/fork", self._fork_chart),
            ("GET", "/charts/{chart_id}/display-urls", self._display_urls),
            ("GET", "/charts/{chart_id}/export/{format}", self._export),
            # folders, themes, basemaps
            ("GET", "/folders", self._list_folders),
            ("POST", "/folders", self._create_folder),
            ("GET", "/folders/{folder_id}", self._get_folder),
            ("PATCH", "/folders/{folder_id}", self._update_folder),
            ("DELETE", "/folders/{folder_id}", self._delete_folder),
            ("GET", "/themes", self._list_themes),
            ("GET", "/themes/{theme_id}", self._get_theme),
            ("GET", "/basemaps", self._list_basemaps),
            ("GET", "/basemaps/{basemap_id}", self._get_basemap),
            ("GET", "/basemaps/{basemap_id}/{key}", self._get_basemap_key),
            # the user
            ("GET", "/me", self._get_me),
            ("PATCH", "/me", self._update_me),
            ("PATCH", "/me/settings", self._update_my_settings),
            ("GET", "/me/recently-edited-charts", self._recent_edited),
            ("GET", "/me/recently-published-charts", self._recent_published),
            ("GET", "/users", self._list_users),
            ("GET", "/users/{user_id}", self._get_user),
            ("PATCH", "/users/{user_id}", self._update_user),
            ("PATCH", "/users/{user_id}/settings", self._update_user_settings),
            ("GET", "/users/{user_id}/recently-edited-charts", self._recent_edited),
            ("GET", "/users/{user_id}/recently-published-charts", self._recent_published),
            # workspaces and teams
            ("GET", "/workspaces", self._list_workspaces),
            ("POST", "/workspaces", self._create_workspace),
            ("GET", "/workspaces/{slug}", self._get_workspace),
            ("PATCH", "/workspaces/{slug}", self._update_workspace),
            ("DELETE", "/workspaces/{slug}", self._delete_workspace),
            ("GET", "/workspaces/{slug}/members", self._list_ws_members),
            ("PATCH", "/workspaces/{slug}/members", self._update_ws_member),
            ("DELETE", "/workspaces/{slug}/members", self._delete_ws_member),
            ("GET", "/workspaces/{slug}/teams", self._list_teams),
            ("POST", "/workspaces/{slug}/teams", self._create_team),
            ("GET", "/workspaces/{slug}/teams/{team}", self._get_team),
            ("PATCH", "/workspaces/{slug}/teams/{team}", self._update_team),
            ("DELETE", "/workspaces/{slug}/teams/{team}", self._delete_team),
            ("GET", "/workspaces/{slug}/teams/{team}/members", self._list_team_members),
            ("POST", "/workspaces/{slug}/teams/{team}/members", self._add_team_member),
            ("PATCH", "/workspaces/{slug}/teams/{team}/members", self._update_team_member),
            ("DELETE", "/workspaces/{slug}/teams/{team}/members", self._delete_team_member),
            # auth, oEmbed, River
            ("GET", "/auth/login-tokens", self._list_login_tokens),
            ("POST", "/auth/login-tokens", self._create_login_token),
            ("DELETE", "/auth/login-tokens/{token_id}", self._delete_login_token),
            ("GET", "/auth/tokens", self._list_api_tokens),
            ("POST", "/auth/tokens", self._create_api_token),
            ("PUT", "/auth/tokens/{token_id}", self._update_api_token),
            ("DELETE", "/auth/tokens/{token_id}", self._delete_api_token),
            ("GET", "/auth/token-scopes", self._token_scopes),
            ("GET", "/oembed", self._oembed),
            ("GET", "/river", self._list_river),
            ("GET", "/river/{chart_id}", self._get_river),
            ("PUT", "/river/{chart_id}", self._update_river),
        ]
        routes = [
            _Route(method, re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)), handler)
            for method, path, handler in table
        ]
        # Logging in with a one-time login token needs no API token.
        login = re.compile(r"/auth/login/(?P<token>[^/]+)")
        routes.append(_Route("GET", login, self._login, public=True))
        return routes

    # ------------------------------------------------------------------ request bodies

    @staticmethod
    def _body(ctx: _Ctx) -> Any:
        """The JSON payload (None when empty); 415 for a non-JSON type, 400 for bad JSON."""
        content = ctx.request.content
        if not content.strip():
            return None
        media = _media_type(ctx.request.headers)
        if media and media != "application/json" and not media.endswith("+json"):
            raise _HTTPError(415)
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError):
            raise _HTTPError(400, "Invalid request payload JSON format") from None

    # ------------------------------------------------------------------ charts

    def _chart(self, chart_id: str) -> JSON:
        """The stored chart, 400 for a malformed id, 404 when unknown or deleted."""
        if len(chart_id) != 5:
            raise _invalid("params", [{"path": "id", "type": "string.length"}])
        if not _CHART_ID.fullmatch(chart_id):
            raise _invalid("params", [{"path": "id", "type": "string.pattern.base"}])
        chart = self.charts.get(chart_id)
        if chart is None or chart["deleted"]:
            raise _HTTPError(404, "Chart not found")
        return chart

    @staticmethod
    def _default_metadata() -> JSON:
        return {
            "data": {"transpose": False, "vertical-header": True, "horizontal-header": True},
            "describe": {
                "intro": "",
                "byline": "",
                "source-name": "",
                "source-url": "",
                "aria-description": "",
                "hide-title": False,
            },
            "visualize": {},
            "publish": {"embed-width": 600, "embed-height": 400, "blocks": {}},
            "annotate": {"notes": ""},
            "axes": {},
            "custom": {},
        }

    def _validate_chart_fields(self, body: Any) -> JSON:
        fields = _validate_object(body, _CHART_SPEC, ignored=_READ_ONLY_CHART_FIELDS)
        details = []
        if "type" in fields and fields["type"] not in CHART_TYPES:
            details.append({"path": "type", "type": "any.only"})
        if "language" in fields and not _LANGUAGE.fullmatch(fields["language"]):
            details.append({"path": "language", "type": "string.pattern.base"})
        if details:
            raise _invalid("payload", details)
        return fields

    def _store_chart(self, chart: JSON) -> None:
        self._sequence += 1
        self._order[chart["id"]] = self._sequence
        self.charts[chart["id"]] = chart

    def _new_chart(self, fields: Mapping[str, Any]) -> JSON:
        chart_id = self._new_chart_id()
        now = self._now()
        chart: JSON = {
            "id": chart_id,
            "publicId": chart_id,
            "type": "d3-bars",
            "title": "",
            "theme": "datawrapper",
            "language": "en-US",
            "lastEditStep": 1,
            "publishedAt": None,
            "publicUrl": None,
            "publicVersion": 0,
            "deleted": False,
            "deletedAt": None,
            "forkable": False,
            "isFork": False,
            "forkedFrom": None,
            "externalData": None,
            "utf8": False,
            "createdAt": now,
            "lastModifiedAt": now,
            "organizationId": None,
            "authorId": self.user["id"],
            "folderId": None,
            "author": {"name": self.user.get("name"), "email": self.user.get("email")},
            "url": f"{self.base_path}/charts/{chart_id}",
            "metadata": self._default_metadata(),
        }
        for key, value in fields.items():
            if key == "metadata":
                chart["metadata"] = _deep_merge(chart["metadata"], value)
            else:
                chart[key] = copy.deepcopy(value)
        self._store_chart(chart)
        return chart

    def _sorted_charts(self, charts: Iterable[JSON], key: str, descending: bool) -> list[JSON]:
        """Charts ordered by ``key`` (None last either way), ties in creation order."""

        def sort_key(chart: JSON) -> tuple[bool, Any, int]:
            value = chart.get(key)
            missing_last = (value is None) != descending  # reversed below when descending
            return missing_last, 0 if value is None else value, self._order.get(chart["id"], 0)

        return sorted(charts, key=sort_key, reverse=descending)

    def _list_charts(self, ctx: _Ctx) -> Response:
        query = _Query(ctx.query)
        order = query.choice("order", ("ASC", "DESC", "asc", "desc"), "DESC") or "DESC"
        order_by = query.choice(
            "orderBy",
            ("id", "type", "title", "createdAt", "lastModifiedAt", "publishedAt", "lastEditStep"),
            "createdAt",
        )
        published = query.boolean("published")
        folder_id = query.integer("folderId", None)
        search = (ctx.query.get("search") or "").lower()
        user_id, team_id = ctx.query.get("userId"), ctx.query.get("teamId")
        items = [c for c in self.charts.values() if not c["deleted"]]
        if published is not None:
            items = [c for c in items if (c["publishedAt"] is not None) == published]
        if folder_id is not None:
            items = [c for c in items if c["folderId"] == folder_id]
        if user_id is not None:
            wanted = str(self.user["id"]) if user_id == "me" else user_id
            items = [c for c in items if str(c["authorId"]) == wanted]
        if team_id is not None:
            items = [c for c in items if c["organizationId"] == team_id]
        if search:
            items = [c for c in items if search in f"{c['id']} {c['title']}".lower()]
        items = self._sorted_charts(items, order_by or "createdAt", order.upper() == "DESC")
        page, limit, offset = _page(items, query)
        query.check()
        body: JSON = {"list": [copy.deepcopy(c) for c in page], "total": len(items)}
        if offset + limit < len(items):
            following = {**ctx.query, "limit": str(limit), "offset": str(offset + limit)}
            body["next"] = f"{self.base_path}/charts?{urlencode(following)}"
        return _json_response(200, body)

    def _create_chart(self, ctx: _Ctx) -> Response:
        fields = self._validate_chart_fields(self._body(ctx))
        chart = self._new_chart(fields)
        self.created_count += 1
        return _json_response(201, copy.deepcopy(chart))

    def _get_chart(self, ctx: _Ctx) -> Response:
        return _json_response(200, copy.deepcopy(self._chart(ctx.params["chart_id"])))

    def _update_chart(self, ctx: _Ctx) -> Response:
        """PATCH deep-merges ``metadata``; PUT replaces it. Other given fields are set."""
        chart = self._chart(ctx.params["chart_id"])
        fields = self._validate_chart_fields(self._body(ctx))
        for key, value in fields.items():
            if key == "metadata" and ctx.request.method == "PATCH":
                chart["metadata"] = _deep_merge(chart["metadata"], value)
            else:
                chart[key] = copy.deepcopy(value)
        chart["lastModifiedAt"] = self._now()
        return _json_response(200, copy.deepcopy(chart))

    def _delete_chart(self, ctx: _Ctx) -> Response:
        chart = self._chart(ctx.params["chart_id"])
        chart["deleted"] = True
        chart["deletedAt"] = self._now()
        return _empty()

    # ------------------------------------------------------------------ chart data

    def _put_data(self, ctx: _Ctx) -> Response:
        chart = self._chart(ctx.params["chart_id"])
        media = _media_type(ctx.request.headers) or "text/csv"
        if media not in ("text/csv", "application/json"):
            raise _HTTPError(
                415, f"Unsupported content type {media!r}: use text/csv or application/json"
            )
        content = ctx.request.content
        if len(content) > self.max_data_bytes:
            raise _HTTPError(
                413, f"Payload content length greater than maximum allowed: {self.max_data_bytes}"
            )
        if media == "application/json":
            try:
                json.loads(content or b"null")
            except (ValueError, UnicodeDecodeError):
                raise _HTTPError(400, "Invalid request payload JSON format") from None
        self.chart_data[chart["id"]] = (content, media)
        chart["lastModifiedAt"] = self._now()
        return _empty()

    def _get_data(self, ctx: _Ctx) -> Response:
        chart = self._chart(ctx.params["chart_id"])
        content, media = self.chart_data.get(chart["id"], (b"", "text/csv"))
        return Response(200, Headers({"content-type": f"{media}; charset=utf-8"}), content)

    def _refresh_data(self, ctx: _Ctx) -> Response:
        self._chart(ctx.params["chart_id"])
        return _empty()

    # ------------------------------------------------------------------ publishing

    @staticmethod
    def _embed_codes(chart: JSON, url: str, width: Any, height: Any) -> JSON:
        title = html.escape(chart["title"], quote=True)
        tag = (
            f'<iframe title="{title}" aria-label="Interactive chart" '
            f'id="datawrapper-chart-{chart["id"]}" src="{url}" scrolling="no" frameborder="0"'
        )
        resize = (
            '<script type="text/javascript">window.addEventListener("message",function(e){'
            'var h=e.data&&e.data["datawrapper-height"];if(!h)return;for(var k in h){'
            'var f=document.getElementById("datawrapper-chart-"+k);'
            'if(f)f.style.height=h[k]+"px";}});</script>'
        )
        return {
            "embed-method-iframe": (
                f'{tag} style="border: none;" width="{width}" height="{height}" '
                'data-external="1"></iframe>'
            ),
            "embed-method-responsive": (
                f'{tag} style="width: 0; min-width: 100% !important; border: none;" '
                f'height="{height}" data-external="1"></iframe>{resize}'
            ),
        }

    @staticmethod
    def _embed_size(chart: JSON) -> tuple[int | float, int | float]:
        """``metadata.publish.embed-width`` and ``-height``, or 600 x 400 when unusable."""
        publish = chart["metadata"].get("publish")
        sizes: list[int | float] = []
        for name, default in (("embed-width", 600), ("embed-height", 400)):
            value = publish.get(name) if isinstance(publish, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                sizes.append(value)
            else:
                sizes.append(default)
        return sizes[0], sizes[1]

    def _publish(self, ctx: _Ctx) -> Response:
        chart = self._chart(ctx.params["chart_id"])
        body = self._body(ctx)
        if body is not None and not isinstance(body, dict):
            raise _invalid("payload", [{"path": "", "type": "object.base"}])
        version = chart["publicVersion"] + 1
        url = f"{_CDN}/{chart['id']}/{version}/"
        now = self._now()
        width, height = self._embed_size(chart)
        if not isinstance(chart["metadata"].get("publish"), dict):
            chart["metadata"]["publish"] = {}
        chart["metadata"]["publish"].update(
            {
                "embed-width": width,
                "embed-height": height,
                "embed-codes": self._embed_codes(chart, url, width, height),
            }
        )
        chart.update(
            publicVersion=version,
            publishedAt=now,
            publicUrl=url,
            lastModifiedAt=now,
            lastEditStep=max(chart.get("lastEditStep") or 0, 5),
        )
        return _json_response(200, {"data": copy.deepcopy(chart), "version": version, "url": url})

    def _unpublish(self, ctx: _Ctx) -> Response:
        chart = self._chart(ctx.params["chart_id"])
        chart.update(publicUrl=None, publishedAt=None, lastModifiedAt=self._now())
        return _empty()

    def _duplicate(self, source: JSON, *, fork: bool) -> JSON:
        fields = {
            key: source[key]
            for key in ("type", "theme", "language", "externalData", "metadata", "lastEditStep")
        }
        fields["metadata"] = copy.deepcopy(source["metadata"])
        if isinstance(fields["metadata"].get("publish"), dict):
            fields["metadata"]["publish"].pop("embed-codes", None)
        if fork:
            fields.update(title=source["title"], isFork=True, forkedFrom=source["id"])
        else:
            fields.update(
                title=f"{source['title']} (Copy)".strip(),
                folderId=source["folderId"],
                organizationId=source["organizationId"],
            )
        chart = self._new_chart({})
        chart.update(copy.deepcopy(fields))
        if source["id"] in self.chart_data:
            self.chart_data[chart["id"]] = self.chart_data[source["id"]]
        self.copies_count += 1
        return chart

    def _copy_chart(self, ctx: _Ctx) -> Response:
        source = self._chart(ctx.params["chart_id"])
        if source["isFork"]:
            raise _HTTPError(400, "Forked charts cannot be copied")
        return _json_response(201, copy.deepcopy(self._duplicate(source, fork=False)))

    def _fork_chart(self, ctx: _Ctx) -> Response:
        source = self._chart(ctx.params["chart_id"])
        return _json_response(201, copy.deepcopy(self._duplicate(source, fork=True)))

    def _display_urls(self, ctx: _Ctx) -> Response:
        chart = self._chart(ctx.params["chart_id"])
        version = chart["publicVersion"]
        base = f"{_CDN}/{chart['id']}/" + (f"{version}/" if version else "")
        return _json_response(
            200,
            [
                {"id": "default", "name": "Default", "url": base},
                {"id": "plain", "name": "Plain (no header and footer)", "url": base + "?plain=1"},
                {"id": "dark", "name": "Dark mode", "url": base + "?dark=true"},
            ],
        )

    # ------------------------------------------------------------------ export

    def _export(self, ctx: _Ctx) -> Response:
        chart = self._chart(ctx.params["chart_id"])
        fmt = ctx.params["format"]
        if fmt not in EXPORT_FORMATS:
            raise _HTTPError(400, f"Unsupported export format {fmt!r}: use png, pdf or svg")
        params = self._export_params(_Query(ctx.query))
        width, height = self._embed_size(chart)
        if "width" in params:
            width = float(params["width"])
        if params.get("height", "auto") != "auto":
            height = float(params["height"])
        unit = str(params.get("unit", "px"))
        transparent = params.get("transparent") is True
        dark = params.get("dark") is True
        if fmt == "png":
            w, h = (max(1, min(MAX_EXPORT_SIDE, round(v))) for v in (width, height))
            content = _png(w, h, transparent=transparent, dark=dark)
        elif fmt == "pdf":
            points = {"px": 0.75, "mm": 72 / 25.4, "inch": 72.0}[unit]
            content = _pdf(width * points, height * points, chart["title"])
        else:
            content = _svg(width, height, unit, chart["title"], transparent=transparent, dark=dark)
        headers = {
            "content-type": EXPORT_FORMATS[fmt],
            "X-Fake-Export-Params": json.dumps(params, sort_keys=True, separators=(",", ":")),
        }
        if params.get("download") is True:
            headers["content-disposition"] = f'attachment; filename="{chart["id"]}.{fmt}"'
        return Response(200, Headers(headers), content)

    @staticmethod
    def _export_params(query: _Query) -> JSON:
        """The export query parameters, parsed and validated as the real API's Joi schema."""
        parsed: dict[str, Any] = {
            "unit": query.choice("unit", ("px", "mm", "inch"), None),
            "mode": query.choice("mode", ("rgb", "cmyk"), None),
            "width": query.number("width", minimum=1),
            "scale": query.number("scale", minimum=0.01),
            "zoom": query.number("zoom", minimum=0.01),
            "borderWidth": query.number("borderWidth", minimum=0),
            "borderColor": query.string("borderColor"),
            "logo": query.choice("logo", ("auto", "on", "off"), None),
            "logoId": query.string("logoId"),
        }
        for name in ("plain", "transparent", "download", "fullVector", "ligatures", "dark"):
            parsed[name] = query.boolean(name)
        height = query.raw.get("height")
        if height is not None and height != "auto":
            parsed["height"] = query.number("height", minimum=1)
        elif height == "auto":
            parsed["height"] = "auto"
        query.check(allowed=[*parsed, "height"])
        return {k: v for k, v in parsed.items() if v is not None}

    # ------------------------------------------------------------------ folders

    def _folder(self, folder_id: str) -> JSON:
        if not folder_id.isdigit():
            raise _invalid("params", [{"path": "id", "type": "number.base"}])
        folder = self.folders.get(int(folder_id))
        if folder is None:
            raise _HTTPError(404, "Folder not found")
        return folder

    def _check_folder_name(self, name: str, parent: Any, owner: JSON, own_id: int | None) -> None:
        """409 when another folder with ``name`` sits under ``parent`` for the same owner."""
        for other in self.folders.values():
            if (
                other["id"] != own_id
                and other["name"] == name
                and other["parentId"] == parent
                and other["teamId"] == owner["teamId"]
                and other["userId"] == owner["userId"]
            ):
                raise _HTTPError(409, "A folder with that name already exists in this location")

    def _folder_fields(self, body: Any, *, creating: bool) -> JSON:
        spec = {"name": _STR, "parentId": _OPT_INT, "teamId": _OPT_STR, "userId": _INT}
        fields = _validate_object(body, spec, required=("name",) if creating else ())
        if "name" in fields and not fields["name"].strip():
            raise _invalid("payload", [{"path": "name", "type": "string.empty"}])
        if "userId" in fields and fields.get("teamId") is not None:
            raise _invalid("payload", [{"path": "userId", "type": "object.nand"}])
        parent = fields.get("parentId")
        if parent is not None and parent not in self.folders:
            raise _HTTPError(404, "Parent folder not found")
        if "userId" in fields and fields["userId"] not in self.users:
            raise _HTTPError(404, "User not found")
        return fields

    def _folder_owner(self, fields: JSON, current: JSON | None) -> JSON:
        """The ``teamId``/``userId`` pair after applying ``fields``: a folder has one owner.

        ``userId`` moves the folder to that user's own folders, a non-null ``teamId`` to the
        team's; ``teamId: null`` alone moves a team folder back to the calling user.
        """
        if "userId" in fields:
            return {"teamId": None, "userId": fields["userId"]}
        if "teamId" in fields:
            team = fields["teamId"]
            if team is not None:
                return {"teamId": team, "userId": None}
            kept = current["userId"] if current is not None else None
            return {"teamId": None, "userId": kept if kept is not None else self.user["id"]}
        if current is not None:
            return {"teamId": current["teamId"], "userId": current["userId"]}
        return {"teamId": None, "userId": self.user["id"]}

    def _list_folders(self, ctx: _Ctx) -> Response:
        items = [copy.deepcopy(f) for f in self.folders.values()]
        return _json_response(200, {"list": items, "total": len(items)})

    def _create_folder(self, ctx: _Ctx) -> Response:
        fields = self._folder_fields(self._body(ctx), creating=True)
        parent = fields.get("parentId")
        owner = self._folder_owner(fields, None)
        self._check_folder_name(fields["name"], parent, owner, None)
        folder_id = self._next_id("folder")
        folder = {
            "id": folder_id,
            "name": fields["name"],
            "parentId": parent,
            **owner,
            "createdAt": self._now(),
        }
        self.folders[folder_id] = folder
        return _json_response(201, copy.deepcopy(folder))

    def _get_folder(self, ctx: _Ctx) -> Response:
        folder = copy.deepcopy(self._folder(ctx.params["folder_id"]))
        folder["charts"] = [
            {"id": c["id"], "title": c["title"], "type": c["type"]}
            for c in self.charts.values()
            if c["folderId"] == folder["id"] and not c["deleted"]
        ]
        folder["children"] = [
            f["id"] for f in self.folders.values() if f["parentId"] == folder["id"]
        ]
        return _json_response(200, folder)

    def _update_folder(self, ctx: _Ctx) -> Response:
        folder = self._folder(ctx.params["folder_id"])
        fields = self._folder_fields(self._body(ctx), creating=False)
        parent = fields.get("parentId", folder["parentId"])
        ancestor = parent
        while ancestor is not None:
            if ancestor == folder["id"]:
                raise _invalid("payload", [{"path": "parentId", "type": "any.invalid"}])
            ancestor = self.folders[ancestor]["parentId"]
        name = str(fields["name"] if "name" in fields else folder["name"])
        owner = self._folder_owner(fields, folder)
        self._check_folder_name(name, parent, owner, folder["id"])
        folder.update(fields)
        folder.update(owner)
        return _json_response(200, copy.deepcopy(folder))

    def _delete_folder(self, ctx: _Ctx) -> Response:
        folder = self._folder(ctx.params["folder_id"])
        for chart in self.charts.values():
            if chart["folderId"] == folder["id"]:
                chart["folderId"] = folder["parentId"]
        for child in self.folders.values():
            if child["parentId"] == folder["id"]:
                child["parentId"] = folder["parentId"]
        del self.folders[folder["id"]]
        return _empty()

    # ------------------------------------------------------------------ themes and basemaps

    def _list_themes(self, ctx: _Ctx) -> Response:
        query = _Query(ctx.query)
        query.boolean("deleted")
        items = [copy.deepcopy(t) for t in self.themes.values()]
        page, _, _ = _page(items, query)
        query.check()
        return _json_response(200, {"list": page, "total": len(items)})

    def _get_theme(self, ctx: _Ctx) -> Response:
        theme = self.themes.get(ctx.params["theme_id"])
        if theme is None:
            raise _HTTPError(404, "Theme not found")
        return _json_response(200, copy.deepcopy(theme))

    def _basemap(self, basemap_id: str) -> JSON:
        basemap = self.basemaps.get(basemap_id)
        if basemap is None:
            raise _HTTPError(404, "Basemap not found")
        return basemap

    def _list_basemaps(self, ctx: _Ctx) -> Response:
        items = [
            {"id": b["id"], "title": b["title"], "keys": sorted(b["keys"])}
            for b in self.basemaps.values()
        ]
        return _json_response(200, items)

    def _get_basemap(self, ctx: _Ctx) -> Response:
        basemap = self._basemap(ctx.params["basemap_id"])
        query = _Query(ctx.query)
        wgs84 = query.boolean("wgs84") or False
        query.check()
        names = basemap["keys"]["name"]
        features = [
            {
                "type": "Feature",
                "properties": {key: values[i] for key, values in basemap["keys"].items()},
                "geometry": {"type": "Point", "coordinates": [float(i), float(i)]},
            }
            for i in range(len(names))
        ]
        return _json_response(
            200,
            {
                "meta": {
                    "id": basemap["id"],
                    "title": basemap["title"],
                    "keys": sorted(basemap["keys"]),
                },
                "wgs84": wgs84,
                "data": {"type": "FeatureCollection", "features": features},
            },
        )

    def _get_basemap_key(self, ctx: _Ctx) -> Response:
        basemap = self._basemap(ctx.params["basemap_id"])
        values = basemap["keys"].get(ctx.params["key"])
        if values is None:
            raise _HTTPError(404, "Basemap key not found")
        return _json_response(200, list(values))

    # ------------------------------------------------------------------ me and users

    def _user(self, user_id: str) -> JSON:
        if not user_id.isdigit():
            raise _invalid("params", [{"path": "id", "type": "number.base"}])
        user = self.users.get(int(user_id))
        if user is None:
            raise _HTTPError(404, "User not found")
        return user

    def _patch_user(self, user: JSON, body: Any) -> Response:
        spec = {
            "name": _OPT_STR,
            "email": _STR,
            "role": _STR,
            "language": _STR,
            "password": _STR,
            "oldPassword": _STR,
        }
        fields = _validate_object(body, spec)
        if "email" in fields and "@" not in fields["email"]:
            raise _invalid("payload", [{"path": "email", "type": "string.email"}])
        if "language" in fields and not _LANGUAGE.fullmatch(fields["language"]):
            raise _invalid("payload", [{"path": "language", "type": "string.pattern.base"}])
        if "password" in fields and "oldPassword" not in fields:
            raise _invalid("payload", [{"path": "oldPassword", "type": "any.required"}])
        fields.pop("password", None)
        fields.pop("oldPassword", None)
        user.update(fields)
        return _json_response(200, copy.deepcopy(user))

    def _patch_settings(self, user: JSON, body: Any) -> Response:
        if body is None or not isinstance(body, dict):
            raise _invalid("payload", [{"path": "", "type": "object.base"}])
        settings = self.user_settings.setdefault(user["id"], {})
        settings.update(copy.deepcopy(body))
        return _json_response(200, copy.deepcopy(settings))

    def _recent(self, ctx: _Ctx, *, published: bool) -> Response:
        user = self._user(ctx.params["user_id"]) if "user_id" in ctx.params else self.user
        query = _Query(ctx.query)
        min_step = query.integer("minLastEditStep", 0) or 0
        items = [
            c
            for c in self.charts.values()
            if not c["deleted"]
            and c["authorId"] == user["id"]
            and (c.get("lastEditStep") or 0) >= min_step
            and (c["publishedAt"] is not None or not published)
        ]
        key = "publishedAt" if published else "lastModifiedAt"
        items = self._sorted_charts(items, key, descending=True)
        page, _, _ = _page(items, query)
        query.check()
        return _json_response(200, {"list": copy.deepcopy(page), "total": len(items)})

    def _get_me(self, ctx: _Ctx) -> Response:
        return _json_response(200, copy.deepcopy(self.user))

    def _update_me(self, ctx: _Ctx) -> Response:
        return self._patch_user(self.user, self._body(ctx))

    def _update_my_settings(self, ctx: _Ctx) -> Response:
        return self._patch_settings(self.user, self._body(ctx))

    def _recent_edited(self, ctx: _Ctx) -> Response:
        return self._recent(ctx, published=False)

    def _recent_published(self, ctx: _Ctx) -> Response:
        return self._recent(ctx, published=True)

    def _list_users(self, ctx: _Ctx) -> Response:
        query = _Query(ctx.query)
        search = (ctx.query.get("search") or "").lower()
        items = [
            copy.deepcopy(u)
            for u in self.users.values()
            if search in f"{u.get('email')} {u.get('name')}".lower()
        ]
        page, _, _ = _page(items, query)
        query.check()
        return _json_response(200, {"list": page, "total": len(items)})

    def _get_user(self, ctx: _Ctx) -> Response:
        return _json_response(200, copy.deepcopy(self._user(ctx.params["user_id"])))

    def _update_user(self, ctx: _Ctx) -> Response:
        return self._patch_user(self._user(ctx.params["user_id"]), self._body(ctx))

    def _update_user_settings(self, ctx: _Ctx) -> Response:
        return self._patch_settings(self._user(ctx.params["user_id"]), self._body(ctx))

    # ------------------------------------------------------------------ workspaces and teams

    def _workspace(self, slug: str) -> JSON:
        workspace = self.workspaces.get(slug)
        if workspace is None:
            raise _HTTPError(404, "Workspace not found")
        return workspace

    def _team(self, ctx: _Ctx) -> JSON:
        team: JSON | None = self._workspace(ctx.params["slug"])["teams"].get(ctx.params["team"])
        if team is None:
            raise _HTTPError(404, "Team not found")
        return team

    @staticmethod
    def _view(record: JSON) -> JSON:
        """A workspace or team as JSON: members, teams and (write-only) secrets left out."""
        hidden = ("members", "teams", "secrets")
        return {k: copy.deepcopy(v) for k, v in record.items() if k not in hidden}

    @staticmethod
    def _apply_settings(record: JSON, fields: JSON) -> None:
        """Plain fields replace; ``settings`` and ``secrets`` objects deep-merge into the record."""
        for key, value in fields.items():
            if key in ("settings", "secrets"):
                record[key] = _deep_merge(record.get(key) or {}, value)
            else:
                record[key] = copy.deepcopy(value)

    def _member_target(self, body: Any, *, with_role: bool) -> tuple[JSON, str | None]:
        """The single-member body ``{"userId" | "email", "role"?}`` (the older shape)."""
        spec = {"userId": _INT, "email": _STR, "role": _STR}
        fields = _validate_object(body, spec)
        if "userId" not in fields and "email" not in fields:
            raise _invalid("payload", [{"path": "userId", "type": "any.required"}])
        role = fields.get("role")
        if role is not None and role not in _ROLES:
            raise _invalid("payload", [{"path": "role", "type": "any.only"}])
        if with_role and role is None:
            raise _invalid("payload", [{"path": "role", "type": "any.required"}])
        return fields, role

    @staticmethod
    def _is_bulk(body: Any, ids_field: str) -> bool:
        """Whether ``body`` uses the member-list shape (``memberIds``/``userIds`` arrays)."""
        return isinstance(body, dict) and ids_field in body

    @staticmethod
    def _bulk_target(body: JSON, ids_field: str, *, role: str) -> tuple[list[int], str | None]:
        """The ids and role of a member-list body; ``role`` is "required", "optional" or "none".

        400 with Joi-like details for unknown keys, a missing or wrong-typed role, or an id
        list that is not a non-empty array of positive integers.
        """
        spec: dict[str, _Check] = {ids_field: _ANY}
        if role != "none":
            spec["role"] = _STR
        required = (ids_field, "role") if role == "required" else (ids_field,)
        fields = _validate_object(body, spec, required=required)
        ids = _id_list(fields, ids_field)
        value = fields.get("role")
        if value is not None and value not in _ROLES:
            raise _invalid("payload", [{"path": "role", "type": "any.only"}])
        return ids, value

    @staticmethod
    def _require_members(members: Mapping[int, JSON], ids: Iterable[int], where: str) -> None:
        """404 naming the ids that are not members of ``where`` (nothing is changed then)."""
        missing = [i for i in ids if i not in members]
        if missing:
            raise _HTTPError(404, f"Not a member of {where}: user id(s) {_ids_text(missing)}")

    def _resolve_user(self, fields: JSON) -> JSON:
        if "userId" in fields:
            user = self.users.get(fields["userId"])
            if user is None:
                raise _HTTPError(404, "User not found")
            return user
        email = fields["email"]
        for user in self.users.values():
            if user.get("email") == email:
                return user
        user_id = self._next_id("user")  # an invitation creates a pending user
        user = {
            "id": user_id,
            "email": email,
            "name": None,
            "role": "pending",
            "language": "en-US",
            "createdAt": self._now(),
        }
        self.users[user_id] = user
        return user

    @staticmethod
    def _members_response(
        members: Mapping[int, JSON], ids: Iterable[int] | None = None
    ) -> Response:
        """``{list, total}`` of ``members`` (only ``ids``, in that order, when given)."""
        chosen = members.values() if ids is None else [members[i] for i in ids if i in members]
        items = [copy.deepcopy(m) for m in chosen]
        return _json_response(200, {"list": items, "total": len(items)})

    def _list_workspaces(self, ctx: _Ctx) -> Response:
        items = [self._view(w) for w in self.workspaces.values()]
        return _json_response(200, {"list": items, "total": len(items)})

    def _create_workspace(self, ctx: _Ctx) -> Response:
        fields = _validate_object(self._body(ctx), {"name": _STR, "slug": _STR}, required=("name",))
        slug = fields.get("slug") or _slugify(fields["name"])
        if not _SLUG.fullmatch(slug):
            raise _invalid("payload", [{"path": "slug", "type": "string.pattern.base"}])
        if slug in self.workspaces:
            raise _HTTPError(409, "A workspace with that slug already exists")
        owner = {"id": self.user["id"], "email": self.user.get("email"), "role": "owner"}
        workspace = {
            "slug": slug,
            "name": fields["name"],
            "color": None,
            "settings": {},
            "createdAt": self._now(),
            "members": {self.user["id"]: owner},
            "teams": {},
            "secrets": {},
        }
        self.workspaces[slug] = workspace
        return _json_response(201, self._view(workspace))

    def _get_workspace(self, ctx: _Ctx) -> Response:
        return _json_response(200, self._view(self._workspace(ctx.params["slug"])))

    def _update_workspace(self, ctx: _Ctx) -> Response:
        """PATCH a workspace: name, slug (renames it), color, settings and secrets (merged)."""
        workspace = self._workspace(ctx.params["slug"])
        spec = {"name": _STR, "slug": _STR, "color": _OPT_STR, "settings": _OBJ, "secrets": _OBJ}
        fields = _validate_object(self._body(ctx), spec)
        new_slug = fields.pop("slug", workspace["slug"])
        if new_slug != workspace["slug"]:
            if not _SLUG.fullmatch(new_slug):
                raise _invalid("payload", [{"path": "slug", "type": "string.pattern.base"}])
            if new_slug in self.workspaces:
                raise _HTTPError(409, "A workspace with that slug already exists")
            del self.workspaces[workspace["slug"]]
            workspace["slug"] = new_slug
            self.workspaces[new_slug] = workspace
            for team in workspace["teams"].values():
                team["workspace"] = new_slug
        self._apply_settings(workspace, fields)
        return _json_response(200, self._view(workspace))

    def _delete_workspace(self, ctx: _Ctx) -> Response:
        del self.workspaces[self._workspace(ctx.params["slug"])["slug"]]
        return _empty()

    def _list_ws_members(self, ctx: _Ctx) -> Response:
        return self._members_response(self._workspace(ctx.params["slug"])["members"])

    def _update_ws_member(self, ctx: _Ctx) -> Response:
        """``{"memberIds": [...], "role"}`` sets the role of existing members (all or none);
        the single ``{"userId" | "email", "role"}`` shape adds or changes one member."""
        workspace = self._workspace(ctx.params["slug"])
        members = workspace["members"]
        body = self._body(ctx)
        if self._is_bulk(body, "memberIds"):
            ids, role = self._bulk_target(body, "memberIds", role="required")
            self._require_members(members, ids, f"workspace {workspace['slug']}")
            for user_id in ids:
                members[user_id]["role"] = role
            return self._members_response(members, ids)
        fields, role = self._member_target(body, with_role=True)
        user = self._resolve_user(fields)
        member = {"id": user["id"], "email": user.get("email"), "role": role}
        members[user["id"]] = member
        return _json_response(200, copy.deepcopy(member))

    def _delete_ws_member(self, ctx: _Ctx) -> Response:
        """``{"memberIds": [...]}`` or ``{"userId" | "email"}`` removes members from the
        workspace and from its teams; unknown members are a 404 and nothing changes."""
        workspace = self._workspace(ctx.params["slug"])
        members = workspace["members"]
        body = self._body(ctx)
        if self._is_bulk(body, "memberIds"):
            ids, _ = self._bulk_target(body, "memberIds", role="none")
            self._require_members(members, ids, f"workspace {workspace['slug']}")
        else:
            fields, _ = self._member_target(body, with_role=False)
            user_id = _find_member(members, fields)
            if user_id is None:
                raise _HTTPError(404, "Member not found")
            ids = [user_id]
        for user_id in ids:
            del members[user_id]
            for team in workspace["teams"].values():
                team["members"].pop(user_id, None)
        return _empty()

    def _list_teams(self, ctx: _Ctx) -> Response:
        teams = self._workspace(ctx.params["slug"])["teams"]
        items = [self._view(t) for t in teams.values()]
        return _json_response(200, {"list": items, "total": len(items)})

    def _create_team(self, ctx: _Ctx) -> Response:
        workspace = self._workspace(ctx.params["slug"])
        spec = {"name": _STR, "id": _STR, "isPrivate": _BOOL, "icon": _OPT_STR}
        fields = _validate_object(self._body(ctx), spec, required=("name",))
        team_id = fields.get("id") or _slugify(fields["name"])
        if team_id in workspace["teams"]:
            raise _HTTPError(409, "A team with that id already exists")
        team = {
            "id": team_id,
            "name": fields["name"],
            "workspace": workspace["slug"],
            "isPrivate": fields.get("isPrivate", False),
            "icon": fields.get("icon"),
            "settings": {},
            "createdAt": self._now(),
            "members": {},
            "secrets": {},
        }
        workspace["teams"][team_id] = team
        return _json_response(201, self._view(team))

    def _get_team(self, ctx: _Ctx) -> Response:
        return _json_response(200, self._view(self._team(ctx)))

    def _update_team(self, ctx: _Ctx) -> Response:
        """PATCH a team: name, isPrivate, icon, settings and secrets (merged)."""
        team = self._team(ctx)
        spec = {
            "name": _STR,
            "isPrivate": _BOOL,
            "icon": _OPT_STR,
            "settings": _OBJ,
            "secrets": _OBJ,
        }
        self._apply_settings(team, _validate_object(self._body(ctx), spec))
        return _json_response(200, self._view(team))

    def _delete_team(self, ctx: _Ctx) -> Response:
        team = self._team(ctx)
        teams = self._workspace(ctx.params["slug"])["teams"]
        body = _validate_object(self._body(ctx), {"migrationTeamId": _OPT_STR})
        target = ctx.query.get("migrationTeamId") or body.get("migrationTeamId")
        if target is not None and (target not in teams or target == team["id"]):
            raise _invalid("payload", [{"path": "migrationTeamId", "type": "any.invalid"}])
        for chart in self.charts.values():
            if chart["organizationId"] == team["id"]:
                chart["organizationId"] = target
        del teams[team["id"]]
        return _empty()

    def _list_team_members(self, ctx: _Ctx) -> Response:
        return self._members_response(self._team(ctx)["members"])

    def _add_team_member(self, ctx: _Ctx) -> Response:
        """``{"userIds": [...], "role"?}`` adds workspace members to the team (all or none:
        404 for users outside the workspace, 409 for users already in the team); the single
        ``{"userId" | "email", "role"?}`` shape adds one user."""
        workspace = self._workspace(ctx.params["slug"])
        members = self._team(ctx)["members"]
        body = self._body(ctx)
        if self._is_bulk(body, "userIds"):
            ids, role = self._bulk_target(body, "userIds", role="optional")
            self._require_members(workspace["members"], ids, f"workspace {workspace['slug']}")
            already = [i for i in ids if i in members]
            if already:
                raise _HTTPError(
                    409, f"Already members of this team: user id(s) {_ids_text(already)}"
                )
            users = [workspace["members"][i] for i in ids]
        else:
            fields, role = self._member_target(body, with_role=False)
            user = self._resolve_user(fields)
            if user["id"] in members:
                raise _HTTPError(409, "The user is already a member of this team")
            users = [user]
        for user in users:
            members[user["id"]] = {
                "id": user["id"],
                "email": user.get("email"),
                "role": role or "member",
            }
        return _empty()

    def _update_team_member(self, ctx: _Ctx) -> Response:
        """``{"memberIds": [...], "role"}`` sets the team role of those workspace members that
        are in the team (others are skipped; ids outside the workspace are a 404) and answers
        with the updated members; the single ``{"userId" | "email", "role"}`` shape changes one."""
        workspace = self._workspace(ctx.params["slug"])
        members = self._team(ctx)["members"]
        body = self._body(ctx)
        if self._is_bulk(body, "memberIds"):
            ids, role = self._bulk_target(body, "memberIds", role="required")
            self._require_members(workspace["members"], ids, f"workspace {workspace['slug']}")
            for user_id in ids:
                if user_id in members:
                    members[user_id]["role"] = role
            return self._members_response(members, ids)
        fields, role = self._member_target(body, with_role=True)
        found = _find_member(members, fields)
        if found is None:
            raise _HTTPError(404, "Member not found")
        members[found]["role"] = role
        return _json_response(200, copy.deepcopy(members[found]))

    def _delete_team_member(self, ctx: _Ctx) -> Response:
        """``{"memberIds": [...]}`` removes those workspace members from the team (ids not in
        the team are skipped, ids outside the workspace are a 404); the single
        ``{"userId" | "email"}`` shape removes one member (404 if not in the team)."""
        workspace = self._workspace(ctx.params["slug"])
        members = self._team(ctx)["members"]
        body = self._body(ctx)
        if self._is_bulk(body, "memberIds"):
            ids, _ = self._bulk_target(body, "memberIds", role="none")
            self._require_members(workspace["members"], ids, f"workspace {workspace['slug']}")
            for user_id in ids:
                members.pop(user_id, None)
            return _empty()
        fields, _ = self._member_target(body, with_role=False)
        found = _find_member(members, fields)
        if found is None:
            raise _HTTPError(404, "Member not found")
        del members[found]
        return _empty()

    # ------------------------------------------------------------------ auth

    def _token_record(self, store: Mapping[int, JSON], token_id: str) -> JSON:
        if not token_id.isdigit():
            raise _invalid("params", [{"path": "id", "type": "number.base"}])
        record = store.get(int(token_id))
        if record is None:
            raise _HTTPError(404, "Token not found")
        return record

    def _new_secret(self, length: int) -> str:
        return "".join(self._rng.choice(_ID_ALPHABET) for _ in range(length))

    def _list_login_tokens(self, ctx: _Ctx) -> Response:
        items = [{k: v for k, v in t.items() if k != "token"} for t in self.login_tokens.values()]
        return _json_response(200, {"list": items, "total": len(items)})

    def _create_login_token(self, ctx: _Ctx) -> Response:
        token_id = self._next_id("login")
        record = {
            "id": token_id,
            "token": self._new_secret(32),
            "createdAt": self._now(),
            "expiresAt": self._now(timedelta(minutes=5)),
        }
        self.login_tokens[token_id] = record
        return _json_response(201, dict(record))

    def _delete_login_token(self, ctx: _Ctx) -> Response:
        record = self._token_record(self.login_tokens, ctx.params["token_id"])
        del self.login_tokens[record["id"]]
        return _empty()

    def _login(self, ctx: _Ctx) -> Response:
        """A one-time login token is consumed and redirects to ``/me``, like a session login."""
        token = ctx.params["token"]
        match = next((t for t in self.login_tokens.values() if t["token"] == token), None)
        if match is None:
            raise _HTTPError(404, "Login token not found")
        del self.login_tokens[match["id"]]
        return _empty(302, {"Location": f"{self.base_path}/me"})

    def _api_token_fields(self, body: Any, *, creating: bool) -> JSON:
        fields = _validate_object(body, {"comment": _STR, "scopes": _STR_LIST})
        unknown = [s for s in fields.get("scopes", []) if s not in _TOKEN_SCOPES]
        if unknown:
            raise _invalid("payload", [{"path": "scopes", "type": "any.only"}])
        if creating:
            fields.setdefault("comment", "")
            fields.setdefault("scopes", list(_TOKEN_SCOPES))
        return fields

    def _list_api_tokens(self, ctx: _Ctx) -> Response:
        items = [
            {**{k: v for k, v in t.items() if k != "token"}, "lastTokenCharacters": t["token"][-4:]}
            for t in self.api_tokens.values()
        ]
        return _json_response(200, {"list": copy.deepcopy(items), "total": len(items)})

    def _create_api_token(self, ctx: _Ctx) -> Response:
        fields = self._api_token_fields(self._body(ctx), creating=True)
        token_id = self._next_id("token")
        record = {
            "id": token_id,
            "comment": fields["comment"],
            "scopes": fields["scopes"],
            "token": self._new_secret(64),
            "createdAt": self._now(),
            "lastUsedAt": None,
        }
        self.api_tokens[token_id] = record
        self.tokens.add(record["token"])
        return _json_response(201, copy.deepcopy(record))

    def _update_api_token(self, ctx: _Ctx) -> Response:
        record = self._token_record(self.api_tokens, ctx.params["token_id"])
        record.update(self._api_token_fields(self._body(ctx), creating=False))
        return _empty()

    def _delete_api_token(self, ctx: _Ctx) -> Response:
        record = self._token_record(self.api_tokens, ctx.params["token_id"])
        self.tokens.discard(record["token"])
        del self.api_tokens[record["id"]]
        return _empty()

    def _token_scopes(self, ctx: _Ctx) -> Response:
        return _json_response(200, list(_TOKEN_SCOPES))

    # ------------------------------------------------------------------ oEmbed and River

    def _oembed(self, ctx: _Ctx) -> Response:
        query = _Query(ctx.query)
        url = query.string("url")
        query.choice("format", ("json",), "json")
        max_width = query.integer("maxwidth", None, minimum=1)
        max_height = query.integer("maxheight", None, minimum=1)
        iframe = query.boolean("iframe") or False
        if url is None:
            query.details.append({"path": "url", "type": "any.required"})
        query.check(allowed=("url", "format", "maxwidth", "maxheight", "iframe"))
        found = re.match(
            r"(?:https?:)?//(?:datawrapper\.dwcdn\.net|www\.datawrapper\.de/_)/([0-9A-Za-z]{5})(?:/|$)",
            url or "",
        )
        chart = self.charts.get(found.group(1)) if found else None
        if chart is None or chart["deleted"] or chart["publishedAt"] is None:
            raise _HTTPError(404, "No published chart found for this url")
        embed_width, embed_height = self._embed_size(chart)
        width = min(round(embed_width), max_width or 10**6)
        height = min(round(embed_height), max_height or 10**6)
        codes = self._embed_codes(chart, chart["publicUrl"], width, height)
        return _json_response(
            200,
            {
                "type": "rich",
                "version": "1.0",
                "provider_name": "Datawrapper",
                "provider_url": "https://www.datawrapper.de",
                "title": chart["title"],
                "html": codes["embed-method-iframe" if iframe else "embed-method-responsive"],
                "width": width,
                "height": height,
            },
        )

    def _river_entry(self, chart: JSON) -> JSON:
        extra = self.river.get(chart["id"], {})
        return {
            "id": chart["id"],
            "title": chart["title"],
            "type": chart["type"],
            "publicUrl": chart["publicUrl"],
            "description": extra.get("description", ""),
            "byline": extra.get("byline", ""),
            "tags": list(extra.get("tags", [])),
            "attribution": extra.get("attribution", ""),
            "approved": extra.get("approved", False),
            "forkable": chart["forkable"],
        }

    def _river_chart(self, chart_id: str) -> JSON:
        chart = self._chart(chart_id)
        if not chart["forkable"]:
            raise _HTTPError(404, "Chart is not in the River")
        return chart

    def _list_river(self, ctx: _Ctx) -> Response:
        query = _Query(ctx.query)
        charts = [c for c in self.charts.values() if c["forkable"] and not c["deleted"]]
        items = [self._river_entry(c) for c in self._sorted_charts(charts, "createdAt", True)]
        page, _, _ = _page(items, query)
        query.check()
        return _json_response(200, {"list": page, "total": len(items)})

    def _get_river(self, ctx: _Ctx) -> Response:
        return _json_response(200, self._river_entry(self._river_chart(ctx.params["chart_id"])))

    def _update_river(self, ctx: _Ctx) -> Response:
        """PUT a River entry: description, byline, tags, attribution, approved, and forkable,
        which sets the chart's own flag (``false`` takes the chart out of the River)."""
        chart = self._river_chart(ctx.params["chart_id"])
        spec = {
            "description": _STR,
            "byline": _STR,
            "tags": _STR_LIST,
            "attribution": _STR,
            "approved": _BOOL,
            "forkable": _BOOL,
        }
        fields = _validate_object(self._body(ctx), spec)
        if "forkable" in fields:
            chart["forkable"] = fields.pop("forkable")
        self.river.setdefault(chart["id"], {}).update(copy.deepcopy(fields))
        return _json_response(200, self._river_entry(chart))
