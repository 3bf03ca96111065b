"""The value types every transport speaks: :class:`Headers`, :class:`Request`, :class:`Response`.

They are deliberately small and library-neutral: a backend turns a :class:`Request` into a call
of its HTTP library and the library's answer into a :class:`Response`, with the whole body read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union
from urllib.parse import urlsplit

__all__ = ["Headers", "HeadersLike", "Request", "Response"]

_BAD_NAME_CHARS = frozenset(" \t\r\n:")

HeadersLike = Union["Headers", Mapping[str, str], Iterable[tuple[str, str]], None]


class Headers(Mapping[str, str]):
    """An immutable, ordered, case-insensitive view of HTTP header fields.

    Repeated fields are kept; ``headers[name]`` joins them with ``", "`` and
    :meth:`get_list` returns them one by one. Original spelling and order are preserved,
    so what is sent is what the server receives.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, headers: HeadersLike = None) -> None:
        if isinstance(headers, Headers):
            self._items: tuple[tuple[str, str], ...] = headers._items
            self._index: dict[str, list[str]] = headers._index
            return
        if headers is None:
            pairs: Iterable[tuple[str, str]] = ()
        elif isinstance(headers, Mapping):
            pairs = headers.items()
        else:
            pairs = headers
        items = []
        index: dict[str, list[str]] = {}
        for name, value in pairs:
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError(
                    f"header names and values must be str, got {type(name).__name__}: "
                    f"{type(value).__name__} for {name!r}; convert them with str() first"
                )
            if not name or not _BAD_NAME_CHARS.isdisjoint(name):
                raise ValueError(f"invalid header name {name!r}: it must be a non-empty token")
            if "\r" in value or "\n" in value:
                raise ValueError(
                    f"invalid value for header {name!r}: it contains a line break, "
                    "which would split the request"
                )
            items.append((name, value))
            index.setdefault(name.lower(), []).append(value)
        self._items = tuple(items)
        self._index = index

    @classmethod
    def _trusted(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """Headers from pairs an HTTP library already parsed (no validation: fast path)."""
        self = cls.__new__(cls)
        items = tuple(pairs)
        index: dict[str, list[str]] = {}
        for name, value in items:
            index.setdefault(name.lower(), []).append(value)
        self._items = items
        self._index = index
        return self

    def as_dict(self) -> dict[str, str]:
        """The fields as a plain dict (repeated fields joined with ``", "``)."""
        if len(self._index) == len(self._items):
            return dict(self._items)
        return {name: self[name] for name in self}

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._index[name.lower()])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._items:
            key = name.lower()
            if key not in seen:
                seen.add(key)
                yield name

    def __len__(self) -> int:
        return len(self._index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._index == other._index
        if isinstance(other, Mapping):
            return self == Headers(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, tuple(v)) for k, v in self._index.items())))

    def get_list(self, name: str) -> list[str]:
        """Every value of the field ``name``, in the order received."""
        return list(self._index.get(name.lower(), ()))

    def raw(self) -> tuple[tuple[str, str], ...]:
        """The fields as (name, value) pairs, in order, with their original spelling."""
        return self._items

    def merged(self, other: HeadersLike) -> Headers:
        """A copy where every field named in ``other`` replaces the field of that name."""
        extra = Headers(other)
        if not extra:
            return self
        replaced = set(extra._index)
        items = [(k, v) for k, v in self._items if k.lower() not in replaced]
        items.extend(extra._items)
        return Headers(items)

    def __repr__(self) -> str:
        # Imported here: _redact imports nothing from this module, but keep the edge one-way.
        from .._redact import redact_headers

        return f"Headers({redact_headers(self._items)!r})"


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request: method, absolute URL, headers and the whole body as bytes."""

    method: str
    url: str
    headers: Headers = field(default_factory=Headers)
    content: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not self.method.isalpha():
            raise ValueError(f"invalid HTTP method {self.method!r}: use a word such as 'GET'")
        if self.method != self.method.upper():
            object.__setattr__(self, "method", self.method.upper())
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"invalid URL {_safe_url(self.url)!r}: it needs an http:// or https:// scheme "
                "and a host"
            )
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))
        if not isinstance(self.content, bytes):
            raise TypeError(
                f"request content must be bytes, got {type(self.content).__name__}; "
                "encode text with .encode('utf-8')"
            )

    @classmethod
    def _trusted(cls, method: str, url: str, headers: Headers, content: bytes) -> Request:
        """A request from parts the caller already validated (the client's fast path)."""
        self = object.__new__(cls)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "headers", headers)
        object.__setattr__(self, "content", content)
        return self

    @property
    def path(self) -> str:
        """The path of the URL, without query."""
        return urlsplit(self.url).path or "/"

    @property
    def host(self) -> str:
        """The host name of the URL."""
        return urlsplit(self.url).hostname or ""

    def __repr__(self) -> str:
        return f"<Request {self.method} {_safe_url(self.url)}>"


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response with its whole body read.

    ``elapsed`` is the time in seconds from sending the request to reading the end of the body;
    ``http_version`` is such as ``"HTTP/1.1"``.
    """

    status_code: int
    headers: Headers = field(default_factory=Headers)
    content: bytes = b""
    http_version: str = "HTTP/1.1"
    elapsed: float = 0.0
    request: Request | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))
        if (
            isinstance(self.status_code, bool)
            or not isinstance(self.status_code, int)
            or not (100 <= self.status_code <= 599)
        ):
            raise ValueError(
                f"invalid status code {self.status_code!r}: use an int from 100 to 599"
            )

    @property
    def is_success(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status_code < 300

    @property
    def reason_phrase(self) -> str:
        """The standard reason phrase of the status, or ``""`` for an unregistered one."""
        from http import HTTPStatus

        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased and without parameters (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        """The body decoded with the charset it declares, or UTF-8 (invalid bytes replaced)."""
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises :class:`ValueError` when it is not JSON)."""
        return json.loads(self.content)

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def _safe_url(url: str) -> str:
    from .._redact import redact_url

    return redact_url(url)
