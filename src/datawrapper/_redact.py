"""Redaction of secrets: the one place that decides what a log line, repr or exception may show.

Every piece of code that renders a URL or headers for humans goes through these functions, so
no API token reaches a log, an exception message, a ``repr`` or a hook event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "redact_headers", "redact_text", "redact_url", "register_secret"]

REDACTED = "[REDACTED]"

# Header fields whose values are secrets (compared lower-case).
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    }
)

# Query parameters whose values are secrets (compared lower-case).
_SENSITIVE_PARAM = re.compile(
    r"(token|access[_-]?token|api[_-]?key|apikey|key|secret|password|passwd|auth|signature|sig)$",
    re.IGNORECASE,
)

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,;\"']+")

# Secrets seen at runtime (the client registers its token), scrubbed from any text we render.
_known_secrets: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` so that :func:`redact_text` scrubs it wherever it appears."""
    if secret and len(secret) >= 4:
        _known_secrets.add(secret)


def redact_text(text: str) -> str:
    """``text`` with every registered secret and every ``Bearer <token>`` replaced."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


def redact_url(url: str) -> str:
    """``url`` with user-info passwords and token-like query parameters redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else f"{REDACTED}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SENSITIVE_PARAM.search(k) for k, _ in pairs):
            query = urlencode(
                [(k, REDACTED if _SENSITIVE_PARAM.search(k) else v) for k, v in pairs],
                safe="[]",
            )
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The header pairs with the values of sensitive fields replaced by ``[REDACTED]``."""
    return [
        (name, REDACTED if name.lower() in SENSITIVE_HEADERS else redact_text(value))
        for name, value in headers
    ]
