"""Client-side rate limiting: the :class:`RateLimiter` protocol the retry engine calls.

The engine calls :meth:`RateLimiter.acquire` before every attempt (retries included) and
:meth:`RateLimiter.feedback` after every response, so a limiter can pace requests before the
server refuses them and learn from the 429s and rate-limit headers it does send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .transport._models import Headers

__all__ = ["RateLimiter"]


@runtime_checkable
class RateLimiter(Protocol):
    """Decides when the next request may be sent."""

    def acquire(self, *, timeout: float | None = None) -> float:
        """Block until one request may be sent; return the seconds waited.

        Raises :class:`~datawrapper.DeadlineExceeded` when that would take longer than
        ``timeout`` seconds (None: no limit).
        """
        ...

    def feedback(self, *, status_code: int, headers: Headers, retry_after: float | None) -> None:
        """Learn from a response: its status, headers and the parsed Retry-After (if any)."""
        ...
