"""Concurrent bulk operations over one client's connection pool: :func:`bulk_map`.

::

    result = client.map(lambda row: client.create_chart(row["title"], data=row["csv"]), rows)
    for item in result.failed:
        print(item.index, item.error)
    charts = result.values()          # raises BulkError if any item failed

How it behaves:

- **Order**: ``result[i]`` is the outcome of ``items[i]``, whatever order the work finished in.
- **Errors are collected**, not raised: an item whose function raises gets an
  :class:`ItemResult` with ``error`` set and the batch goes on. ``return_exceptions=False``
  instead stops starting new items at the first failure and raises :class:`BulkError`, whose
  ``.result`` still lists what succeeded (which charts were created).
- **One pool**: the workers are threads that share the client, so they share its connection
  pool. More workers than ``PoolConfig.max_connections`` cannot go faster (the extra ones
  wait for a connection, and may hit ``Timeout.pool``), so that configuration emits a
  :class:`PoolSizeWarning`. The default worker count is ``min(8, max_connections)``.
- **Shared backoff on 429**: when the server rate-limits any request of the batch, every
  worker waits, not just the one that was refused. The runner sees each 429 retry the
  retry engine decides (a hook on the client, installed for the duration of the batch) and
  holds every further attempt, of every worker, until that wait has passed. When an item
  finally fails with :class:`~datawrapper.RateLimitError` (the client's retries are used up),
  the workers pause for the ``Retry-After`` it carries if that is at most ``max_pause``
  (default ``RetryPolicy.max_retry_after``); if the wait is unknown or longer, the items not
  started yet are not sent at all and are reported as failed with
  :class:`BulkCancelledError` (re-run them later with ``[r.item for r in result.failed]``).
  A client ``rate_limiter`` keeps pacing every attempt as usual.
- **Progress**: ``progress=True`` shows a tqdm bar when tqdm is installed (nothing
  otherwise); a callable ``progress(done, total)`` is called after each item (``total`` is
  None for an iterable without a length).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ._exceptions import DatawrapperError, RateLimitError
from ._hooks import Event, Hook

if TYPE_CHECKING:
    from ._client import Datawrapper

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "BulkCancelledError",
    "BulkError",
    "BulkResult",
    "ItemResult",
    "PoolSizeWarning",
    "ProgressCallback",
    "bulk_map",
]

logger = logging.getLogger("datawrapper.bulk")

T = TypeVar("T")
R = TypeVar("R")

#: Workers when ``max_workers`` is not given (capped at ``PoolConfig.max_connections``).
DEFAULT_MAX_WORKERS = 8

#: Longest single sleep of a paused worker, so that a cancelled batch stops promptly.
_PAUSE_SLICE = 0.25

ProgressCallback = Callable[[int, int | None], None]


class PoolSizeWarning(UserWarning):
    """More bulk workers than the client's pool has connections: the extra ones only wait."""


class BulkCancelledError(DatawrapperError):
    """The item was never started: the batch was stopped before its turn (``reason`` says why)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ItemResult(Generic[T, R]):
    """The outcome of one item: its ``value``, or the ``error`` its function raised.

    ``index`` is the item's position in the input; ``elapsed`` the seconds its function ran
    (0 for an item that was never started).
    """

    index: int
    item: T
    value: R | None = None
    error: BaseException | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the function returned (no error)."""
        return self.error is None

    def unwrap(self) -> R:
        """The value, or raise the item's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]

    def __repr__(self) -> str:
        if self.error is None:
            return f"<ItemResult #{self.index} ok>"
        return f"<ItemResult #{self.index} {type(self.error).__name__}>"


class BulkResult(Sequence[ItemResult[T, R]]):
    """Every item's :class:`ItemResult`, in input order, and the batch's totals.

    ``result[i]`` is the outcome of the i-th item; :attr:`failed` lists the failures (errors
    and items never started), :meth:`values` returns the values or raises :class:`BulkError`.
    """

    __slots__ = ("_items", "elapsed", "max_workers", "paused_seconds", "pauses")

    def __init__(
        self,
        items: Sequence[ItemResult[T, R]],
        *,
        elapsed: float = 0.0,
        max_workers: int = 1,
        pauses: int = 0,
        paused_seconds: float = 0.0,
    ) -> None:
        self._items: tuple[ItemResult[T, R], ...] = tuple(items)
        #: Wall-clock seconds the whole batch took.
        self.elapsed = elapsed
        #: Worker threads used.
        self.max_workers = max_workers
        #: How many shared pauses (429 backoffs) the batch made, and their total length.
        self.pauses = pauses
        self.paused_seconds = paused_seconds

    @overload
    def __getitem__(self, index: int) -> ItemResult[T, R]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ItemResult[T, R]]: ...

    def __getitem__(self, index: int | slice) -> ItemResult[T, R] | Sequence[ItemResult[T, R]]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[ItemResult[T, R]]:
        return iter(self._items)

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return all(r.error is None for r in self._items)

    @property
    def succeeded(self) -> list[ItemResult[T, R]]:
        """The items whose function returned, in input order."""
        return [r for r in self._items if r.error is None]

    @property
    def failed(self) -> list[ItemResult[T, R]]:
        """The items that raised or were never started, in input order."""
        return [r for r in self._items if r.error is not None]

    @property
    def cancelled(self) -> list[ItemResult[T, R]]:
        """The items never started because the batch was stopped."""
        return [r for r in self._items if isinstance(r.error, BulkCancelledError)]

    @property
    def errors(self) -> list[BaseException]:
        """The errors of the failed items, in input order."""
        return [r.error for r in self._items if r.error is not None]

    def values(self) -> list[R]:
        """Every item's value in input order; raises :class:`BulkError` if any item failed."""
        self.raise_for_errors()
        return [r.value for r in self._items]  # type: ignore[misc]

    def raise_for_errors(self) -> None:
        """Raise :class:`BulkError` (chained to the first error) if any item failed."""
        failed = self.failed
        if failed:
            raise BulkError(self) from failed[0].error

    def __repr__(self) -> str:
        failed = len(self.failed)
        return (
            f"<BulkResult {len(self)} items: {len(self) - failed} ok, {failed} failed, "
            f"{self.elapsed:.3g} s>"
        )


class BulkError(DatawrapperError):
    """Some items of a batch failed; ``result`` is the whole :class:`BulkResult`.

    ``__cause__`` is the first failure (in input order); ``result.succeeded`` tells what was
    done anyway, e.g. which charts exist.
    """

    def __init__(self, result: BulkResult[Any, Any]) -> None:
        self.result = result
        failed = result.failed
        cancelled = len(result.cancelled)
        first = next((r for r in failed if not isinstance(r.error, BulkCancelledError)), None)
        text = f"{len(failed) - cancelled} of {len(result)} items failed"
        if first is not None and first.error is not None:
            detail = str(first.error) or type(first.error).__name__
            text += f" (first: item {first.index}: {type(first.error).__name__}: {detail})"
        if cancelled:
            text += f"; {cancelled} not started"
        super().__init__(text)


# --------------------------------------------------------------------------- shared pause


class _SharedPause:
    """A time before which no worker may start an attempt; any worker can push it later."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until = float("-inf")
        self.pauses = 0
        self.paused_seconds = 0.0

    def extend(self, seconds: float, why: str) -> None:
        """Hold every worker for ``seconds`` from now (never shortens a pause in force)."""
        if seconds <= 0:
            return
        with self._lock:
            now = self._clock()
            until = now + seconds
            if until <= self._until:
                return
            self.paused_seconds += until - max(now, self._until)
            self._until = until
            self.pauses += 1
        logger.info("bulk: every worker pauses %.3g s (%s)", seconds, why)

    def wait(self, stop: threading.Event) -> None:
        """Block until the pause has passed or ``stop`` is set."""
        while not stop.is_set():
            with self._lock:
                remaining = self._until - self._clock()
            if remaining <= 0:
                return
            self._sleep(min(remaining, _PAUSE_SLICE))


def _rate_limit_error(exc: BaseException) -> RateLimitError | None:
    """The :class:`RateLimitError` behind ``exc`` (itself, or in its cause chain), if any."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, RateLimitError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


# --------------------------------------------------------------------------- the runner

_hooks_lock = threading.Lock()


class _Batch(Generic[T, R]):
    """The shared state of one :func:`bulk_map` call."""

    def __init__(
        self,
        client: Datawrapper,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        total: int | None,
        return_exceptions: bool,
        max_pause: float,
        progress: ProgressCallback | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.client = client
        self.fn = fn
        self.source: Iterator[tuple[int, T]] = iter(enumerate(items))
        self.total = total
        self.return_exceptions = return_exceptions
        self.max_pause = max_pause
        self.progress = progress
        self.pause = _SharedPause(clock, sleep)
        self.stop = threading.Event()
        self.stop_reason = ""
        self.lock = threading.Lock()
        self.source_lock = threading.Lock()
        self.results: dict[int, ItemResult[T, R]] = {}
        self.done = 0
        self.fatal: BaseException | None = None
        # Workers still running. Thread.join() cannot be trusted after a KeyboardInterrupt
        # (an interrupted join can mark a running thread as finished), so workers count
        # themselves out here and the caller waits on this condition instead.
        self.live = 0
        self.live_changed = threading.Condition()

    def run_worker(self) -> None:
        """A worker thread's body: :meth:`work`, then count itself out."""
        try:
            self.work()
        finally:
            with self.live_changed:
                self.live -= 1
                self.live_changed.notify_all()

    def wait_for_workers(self) -> None:
        """Return once every worker has finished (polling, so Ctrl-C is seen promptly)."""
        with self.live_changed:
            while self.live > 0:
                self.live_changed.wait(0.2)

    # -- hook on the client: sees every attempt of every thread while the batch runs

    def hook(self, event: Event) -> None:
        if event.kind == "request":
            self.pause.wait(self.stop)
        elif event.kind == "retry" and event.status_code == 429 and event.retry_delay:
            self.pause.extend(event.retry_delay, f"429 on {event.method} {event.path}")

    # -- workers

    def _next(self) -> tuple[int, T] | None:
        with self.source_lock:
            if self.stop.is_set():
                return None
            try:
                return next(self.source)
            except StopIteration:
                return None
            except BaseException as exc:  # the caller's iterable failed: stop and re-raise
                self._halt(f"iterating the items raised {type(exc).__name__}", fatal=exc)
                return None

    def _halt(self, reason: str, *, fatal: BaseException | None = None) -> None:
        with self.lock:
            if not self.stop.is_set():
                self.stop_reason = reason
            if fatal is not None and self.fatal is None:
                self.fatal = fatal
        self.stop.set()

    def _record(self, result: ItemResult[T, R]) -> None:
        with self.lock:
            self.results[result.index] = result
            self.done += 1
            done = self.done
            if self.progress is not None:
                try:
                    self.progress(done, self.total)
                except Exception:
                    logger.exception("bulk: the progress callback failed; the batch goes on")

    def _cancelled(self, index: int, item: T) -> ItemResult[T, R]:
        reason = self.stop_reason or "the batch was stopped"
        return ItemResult(
            index,
            item,
            error=BulkCancelledError(f"item {index} was not started: {reason}", reason=reason),
        )

    def _on_error(self, exc: BaseException) -> None:
        limited = _rate_limit_error(exc)
        if limited is not None:
            wait = limited.retry_after
            if wait is not None and wait <= self.max_pause:
                self.pause.extend(wait, "an item failed with a 429")
            else:
                asked = "no Retry-After" if wait is None else f"Retry-After {wait:g} s"
                self._halt(
                    f"the server still refused with 429 after the client's retries ({asked}, "
                    f"max_pause {self.max_pause:g} s); re-run the items that were not started "
                    "later"
                )
                return
        if not self.return_exceptions:
            self._halt(f"an earlier item failed with {type(exc).__name__}")

    def work(self) -> None:
        while True:
            pulled = self._next()
            if pulled is None:
                return
            index, item = pulled
            self.pause.wait(self.stop)
            if self.stop.is_set():
                self._record(self._cancelled(index, item))
                return
            started = time.perf_counter()
            try:
                value = self.fn(item)
            except Exception as exc:
                self._record(
                    ItemResult(index, item, error=exc, elapsed=time.perf_counter() - started)
                )
                self._on_error(exc)
                continue
            except BaseException as exc:  # SystemExit and the like: record, stop, re-raise
                self._record(
                    ItemResult(index, item, error=exc, elapsed=time.perf_counter() - started)
                )
                self._halt(f"an item raised {type(exc).__name__}", fatal=exc)
                return
            self._record(
                ItemResult(index, item, value=value, elapsed=time.perf_counter() - started)
            )

    def drain(self) -> None:
        """Record every item not pulled by a worker as cancelled (after a stop)."""
        with self.source_lock:
            if self.fatal is not None:
                return
            for index, item in self.source:
                self._record(self._cancelled(index, item))


def _progress_callback(
    progress: bool | ProgressCallback, total: int | None
) -> tuple[ProgressCallback | None, Callable[[], None]]:
    """The per-item callback for ``progress`` and a function that closes what it opened."""
    if callable(progress):
        return progress, lambda: None
    if not progress:
        return None, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        logger.debug("bulk: progress=True but tqdm is not installed; no progress bar")
        return None, lambda: None
    bar = tqdm(total=total, unit="item")

    def update(done: int, total: int | None) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def _install(client: Datawrapper, hook: Hook) -> None:
    with _hooks_lock:
        client.hooks = (hook, *client.hooks)


def _uninstall(client: Datawrapper, hook: Hook) -> None:
    with _hooks_lock:
        client.hooks = tuple(h for h in client.hooks if h is not hook)


def bulk_map(
    client: Datawrapper,
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    max_workers: int | None = None,
    progress: bool | ProgressCallback = False,
    return_exceptions: bool = True,
    max_pause: float | None = None,
) -> BulkResult[T, R]:
    """Call ``fn(item)`` for every item on a pool of threads sharing ``client``; keep order.

    ``fn`` usually calls methods of ``client`` (``lambda row: client.create_chart(...)``).
    Returns a :class:`BulkResult` whose i-th entry is the outcome of the i-th item.

    - ``max_workers``: threads (default ``min(8, client.pool.max_connections)``); more than
      ``max_connections`` emits a :class:`PoolSizeWarning`.
    - ``progress``: True for a tqdm bar (when installed), or a callable ``(done, total)``.
    - ``return_exceptions``: True (default) collects each item's error in its result; False
      stops starting new items after the first failure and raises :class:`BulkError`.
    - ``max_pause``: the longest shared pause (seconds) the batch makes when an item finally
      fails with a 429; default ``client.retry.max_retry_after``. See the module docstring.

    An exception raised while iterating ``items`` stops the batch and is re-raised.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a callable taking one item, got {type(fn).__name__}")
    if isinstance(items, (str, bytes)):
        raise TypeError(
            "items must be an iterable of work items such as a list, not a str or bytes; "
            "wrap a single item in a list"
        )
    if not isinstance(items, Iterable):
        raise TypeError(f"items must be an iterable, got {type(items).__name__}")
    pool_size = int(client.pool.max_connections)
    if max_workers is None:
        workers = min(DEFAULT_MAX_WORKERS, pool_size)
    elif isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"max_workers must be an int >= 1, got {max_workers!r}")
    else:
        workers = max_workers
    if workers > pool_size:
        warnings.warn(
            PoolSizeWarning(
                f"max_workers={workers} is more than the client's pool of {pool_size} "
                "connections (PoolConfig.max_connections): the extra workers only wait for a "
                "free connection and may fail with PoolTimeout; raise max_connections or lower "
                "max_workers"
            ),
            stacklevel=2,
        )
    if max_pause is None:
        max_pause = float(client.retry.max_retry_after)
    elif isinstance(max_pause, bool) or not isinstance(max_pause, (int, float)) or max_pause < 0:
        raise ValueError(f"max_pause must be a number of seconds >= 0, got {max_pause!r}")
    if not (progress is True or progress is False or callable(progress)):
        raise TypeError(
            f"progress must be True, False or a callable (done, total), got {progress!r}"
        )

    total = len(items) if isinstance(items, Sized) else None
    if total is not None:
        workers = max(1, min(workers, total))
    engine = getattr(client, "_engine", None)
    clock: Callable[[], float] = getattr(engine, "clock", time.monotonic)
    sleep: Callable[[float], None] = getattr(engine, "sleep", time.sleep)
    callback, close_progress = _progress_callback(progress, total)
    batch: _Batch[T, R] = _Batch(
        client,
        fn,
        items,
        total=total,
        return_exceptions=return_exceptions,
        max_pause=float(max_pause),
        progress=callback,
        clock=clock,
        sleep=sleep,
    )
    started = time.perf_counter()
    threads = [
        threading.Thread(target=batch.run_worker, name=f"datawrapper-bulk-{n}", daemon=True)
        for n in range(workers)
    ]
    hook = batch.hook  # one bound-method object, so that it can be found again and removed
    _install(client, hook)
    try:
        try:
            for thread in threads:
                with batch.live_changed:
                    batch.live += 1
                try:
                    thread.start()
                except BaseException:
                    if not thread.is_alive() and thread.ident is None:  # it never ran
                        with batch.live_changed:
                            batch.live -= 1
                    raise
            batch.wait_for_workers()
        except BaseException:  # KeyboardInterrupt: let in-flight items finish, start no more
            batch._halt("interrupted")
            batch.wait_for_workers()
            raise
        if batch.stop.is_set():
            batch.drain()
    finally:
        _uninstall(client, hook)
        close_progress()
    if batch.fatal is not None:
        raise batch.fatal
    ordered = [batch.results[i] for i in sorted(batch.results)]
    result: BulkResult[T, R] = BulkResult(
        ordered,
        elapsed=time.perf_counter() - started,
        max_workers=workers,
        pauses=batch.pause.pauses,
        paused_seconds=batch.pause.paused_seconds,
    )
    if not return_exceptions:
        result.raise_for_errors()
    return result
