"""Observability hooks: the :class:`Event` every request emits, and how hooks are called.

Pass ``hooks=[callable, ...]`` to :class:`~datawrapper.Datawrapper`; each callable receives one
:class:`Event` per request start, response, retry and final error. An exception inside a hook
is logged (logger ``datawrapper.hooks``) and never breaks the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Event", "EventKind", "Hook", "emit", "normalize_hooks"]

logger = logging.getLogger("datawrapper.hooks")

EventKind = Literal["request", "response", "retry", "error"]


@dataclass(frozen=True, slots=True)
class Event:
    """What happened to one attempt of one request.

    - ``kind``: ``"request"`` (an attempt starts), ``"response"`` (a response arrived, any
      status), ``"retry"`` (a retry was decided; ``retry_delay`` is the wait) or ``"error"``
      (the call failed for good; ``error`` is the exception class name).
    - ``url`` is redacted (no token-like query values); ``path`` is its path alone.
    - ``elapsed`` is the attempt's duration in seconds (response, retry, error events).
    """

    kind: EventKind
    method: str
    url: str
    path: str
    attempt: int
    backend: str
    status_code: int | None = None
    elapsed: float | None = None
    retry_delay: float | None = None
    error: str | None = None
    reason: str = ""


Hook = Callable[[Event], None]


def normalize_hooks(hooks: Hook | Iterable[Hook] | None) -> tuple[Hook, ...]:
    """``hooks`` as a tuple of callables, or a TypeError that says what was wrong."""
    if hooks is None:
        return ()
    if callable(hooks):
        return (hooks,)
    result = tuple(hooks)
    for hook in result:
        if not callable(hook):
            raise TypeError(
                f"hooks must be callables taking one Event, got {type(hook).__name__}; "
                "pass e.g. hooks=[MetricsCollector()]"
            )
    return result


def emit(hooks: Sequence[Hook], event: Event) -> None:
    """Call every hook with ``event``; a failing hook is logged and skipped."""
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            logger.exception(
                "hook %r failed on a %s event for %s %s; the request goes on",
                hook,
                event.kind,
                event.method,
                event.path,
            )
