"""Redaction of secrets: the one place that decides what a log line, repr or exception may show.

Every piece of code that renders a URL or headers for humans goes through these functions, so
no API token reaches a log, an exception message, a ``repr`` or a hook event.

Three nets, from the most to the least specific:

1. Secrets the process knows (:func:`register_secret`: the client registers its token) are
   replaced wherever they appear, also percent-encoded inside a URL.
2. ``Bearer <token>`` and token-like ``name=value`` pairs (``access_token=``, ``api_key=``,
   ``signature=`` ...) are replaced in any text, such as a library's error message.
3. URLs are parsed: the password of the user-info and the values of token-like query (and
   fragment) parameters are replaced.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

__all__ = [
    "HTTP_LIBRARY_LOGGERS",
    "REDACTED",
    "SENSITIVE_HEADERS",
    "RedactingFilter",
    "install_log_redaction",
    "redact_headers",
    "redact_text",
    "redact_url",
    "register_secret",
]

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

# Names of query parameters (and name=value pairs in text) whose values are secrets.
_SENSITIVE_NAME = (
    r"(?:token|access[_-]?token|api[_-]?key|apikey|key|secret|password|passwd|pwd|auth"
    r"|signature|sig|jwt|session|sessionid|credentials?)"
)
_SENSITIVE_PARAM = re.compile(_SENSITIVE_NAME + r"$", re.IGNORECASE)
# In free text: `access_token=abc`, `X-Amz-Signature=abc`, `"api_key": "abc"` is left to nets 1-2.
_PARAM_IN_TEXT = re.compile(
    r"(?i)(?<![\w-])([\w.-]*?" + _SENSITIVE_NAME + r")=(?!\[REDACTED\])([^&\s#'\",;)\]}>]+)"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,;\"']+")

# Secrets seen at runtime, longest first (so a secret that contains another is replaced
# whole). Replaced as a new tuple under the lock; readers take the current tuple lock-free.
_lock = threading.Lock()
_known_secrets: tuple[str, ...] = ()


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` so that :func:`redact_text` scrubs it wherever it appears.

    Strings shorter than 4 characters are ignored: they would blank out ordinary text.
    """
    global _known_secrets
    if not isinstance(secret, str) or len(secret) < 4:
        return
    with _lock:
        if secret not in _known_secrets:
            _known_secrets = tuple(sorted((*_known_secrets, secret), key=lambda s: (-len(s), s)))


def redact_text(text: str) -> str:
    """``text`` with every registered secret, ``Bearer <token>`` and token-like
    ``name=value`` value replaced by ``[REDACTED]``."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    # Cheap tests first: this runs for every request that a hook or a DEBUG log sees.
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    if "=" not in text:
        return text
    return _PARAM_IN_TEXT.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def _redact_pairs(text: str) -> str:
    """A query (or fragment) string with the values of token-like parameters redacted."""
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(_SENSITIVE_PARAM.search(name) for name, _ in pairs):
        return text
    return urlencode(
        [(name, REDACTED if _SENSITIVE_PARAM.search(name) else value) for name, value in pairs],
        safe="[]",
    )


def redact_url(url: str) -> str:
    """``url`` with user-info passwords and token-like query parameters redacted.

    Never raises: text that is not a URL is redacted as plain text.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = (
                f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else f"{REDACTED}@{hostport}"
            )
        query = _redact_pairs(parts.query) if parts.query else ""
        fragment = parts.fragment
        if "=" in fragment:
            fragment = _redact_pairs(fragment)
        result = redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, fragment)))
    except ValueError:
        result = redact_text(url)
    if _known_secrets and ("%" in result or "+" in result):
        # A registered secret hidden by percent-encoding: show the decoded URL, redacted.
        decoded = unquote_plus(result)
        if any(secret in decoded for secret in _known_secrets):
            result = redact_text(decoded)
    return result


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The header pairs with the values of sensitive fields replaced by ``[REDACTED]``."""
    return [
        (name, REDACTED if name.lower() in SENSITIVE_HEADERS else redact_text(value))
        for name, value in headers
    ]


class RedactingFilter(logging.Filter):
    """A :class:`logging.Filter` that passes every record with its message redacted.

    The HTTP libraries log URLs with their query (``httpx`` at INFO, urllib3 at DEBUG), so a
    token-like query parameter or a registered secret would reach the log unredacted; this
    filter rewrites such a record's message with :func:`redact_text` before any handler
    sees it. Records without a secret are left untouched.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's business
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


#: The loggers of the HTTP libraries under our backends that print URLs or request lines.
HTTP_LIBRARY_LOGGERS: tuple[str, ...] = (
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.proxy",
)

_FILTER = RedactingFilter()


def install_log_redaction(names: Iterable[str] = HTTP_LIBRARY_LOGGERS) -> None:
    """Attach the one :class:`RedactingFilter` to each logger in ``names`` (idempotent).

    A filter only applies to records logged on its own logger, not to child loggers, so
    each logger that formats URLs is named.
    """
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
