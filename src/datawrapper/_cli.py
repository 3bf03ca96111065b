"""The ``datawrapper`` command: charts from the shell, bulk jobs, the demo and a fake API server.

Run ``datawrapper --help`` (or ``python -m datawrapper --help``); every subcommand has its own
``--help``. The API token comes from ``DATAWRAPPER_ACCESS_TOKEN`` or ``--token-file`` and is
never printed. A failure is one line on stderr and an exit code from :data:`EXIT_CODES`;
``--verbose`` adds DEBUG logs (token redacted), the attempt history and the traceback.

This is the only module of the package that prints.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

from ._bulk import bulk_map
from ._client import DEFAULT_BASE_URL, Datawrapper
from ._exceptions import (
    AuthenticationError,
    ConnectError,
    DatawrapperError,
    DeadlineExceeded,
    FailedRequestError,
    ForbiddenError,
    InvalidRequestError,
    MissingTokenError,
    NotFoundError,
    PartialFailureError,
    RateLimitError,
    ServerError,
    TimeoutException,
    TLSError,
    TransportError,
    UnauthorizedError,
)
from ._redact import redact_text, redact_url, register_secret
from .transport._config import PoolConfig, RetryPolicy, Timeout

__all__ = [
    "EXIT_CODES",
    "CLIError",
    "ResultsFile",
    "build_parser",
    "describe_error",
    "main",
]

logger = logging.getLogger("datawrapper.cli")

PROG = "datawrapper"
BACKENDS = ("requests", "httpx", "urllib3")
EXPORT_FORMATS = ("png", "pdf", "svg")
DEFAULT_RESULTS_NAME = ".datawrapper-results.jsonl"
EDITOR_URL = "https://app.datawrapper.de/chart/{id}/visualize"

# --------------------------------------------------------------------------- exit codes

EXIT_OK = 0
EXIT_FAILED = 1  # the API refused or a job had failures
EXIT_USAGE = 2  # bad arguments, missing token, unreadable file (argparse uses 2 as well)
EXIT_AUTH = 3  # 401 / 403
EXIT_NOT_FOUND = 4  # 404
EXIT_RATE_LIMITED = 5  # 429 after the retries (or a wait above max_retry_after)
EXIT_NETWORK = 6  # unreachable, TLS, timeouts, broken connections
EXIT_SERVER = 7  # 5xx after the retries
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)

#: Every exit code of the command and what it means (shown by ``datawrapper --help``).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILED: "the API refused a request, or some files of a bulk job failed",
    EXIT_USAGE: "bad arguments, no API token, or a file that cannot be read or written",
    EXIT_AUTH: "the token was rejected (401) or may not do this (403)",
    EXIT_NOT_FOUND: "no such chart or resource (404)",
    EXIT_RATE_LIMITED: "rate limited (429) after the retries; the message says the wait asked",
    EXIT_NETWORK: "network: host unreachable, TLS failure, timeout, connection broken",
    EXIT_SERVER: "the server failed (5xx) after the retries",
    EXIT_INTERRUPTED: "interrupted with Ctrl-C (after in-flight requests finished)",
}


class CLIError(Exception):
    """A problem the command found itself (bad option, unreadable file): one line, an exit code."""

    def __init__(self, message: str, *, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------- the error table


def _where(exc: FailedRequestError) -> str:
    """``METHOD /path`` of the request that failed (redacted), or ``the request``."""
    request = exc.request
    if request is None:
        return "the request"
    return f"{request.method} {urlsplit(redact_url(request.url)).path}"


def _attempts(exc: BaseException) -> str:
    count = len(getattr(exc, "attempts", ()) or ())
    return f" after {count} attempts" if count > 1 else ""


def _detail(exc: FailedRequestError) -> str:
    message = exc.error_message
    return f" ({message})" if message and message != exc.error else ""


def _host(base_url: str) -> str:
    return urlsplit(base_url).netloc or base_url


def _msg_cli(exc: Any, base_url: str) -> str:
    return str(exc)


def _msg_missing_token(exc: Any, base_url: str) -> str:
    return (
        "no API token: set DATAWRAPPER_ACCESS_TOKEN or pass --token-file PATH "
        "(create a token at https://app.datawrapper.de/account/api-tokens)"
    )


def _msg_invalid(exc: Any, base_url: str) -> str:
    return f"invalid input: {exc.message}"


def _msg_unauthorized(exc: Any, base_url: str) -> str:
    return (
        f"authentication failed: {_where(exc)} answered 401 Unauthorized; check the token "
        "in DATAWRAPPER_ACCESS_TOKEN or --token-file"
    )


def _msg_forbidden(exc: Any, base_url: str) -> str:
    return (
        f"permission denied: {_where(exc)} answered 403 Forbidden{_detail(exc)}; the token "
        "may lack the scope for this (e.g. chart:write)"
    )


def _msg_not_found(exc: Any, base_url: str) -> str:
    detail = _detail(exc) or " (no such chart or resource, or not visible to this token)"
    return f"not found: {_where(exc)} answered 404{detail}"


def _msg_rate_limited(exc: Any, base_url: str) -> str:
    if exc.retry_after is not None:
        wait = f"the server asked to wait {exc.retry_after:g} s"
    else:
        wait = "the server did not say how long to wait"
    return (
        f"rate limited: {_where(exc)} answered 429 Too Many Requests{_attempts(exc)}; {wait}; "
        "try again later or lower --workers"
    )


def _msg_server(exc: Any, base_url: str) -> str:
    return (
        f"server error: {_where(exc)} answered {exc.status_code} {exc.error}{_attempts(exc)}"
        f"{_detail(exc)}; try again later"
    )


def _msg_failed(exc: Any, base_url: str) -> str:
    return f"request failed: {_where(exc)} answered {exc.status_code} {exc.error}{_detail(exc)}"


def _msg_tls(exc: Any, base_url: str) -> str:
    return (
        f"TLS error talking to {_host(base_url)}: {exc.message}; pass --ca-bundle PATH to "
        "trust a private CA"
    )


def _msg_connect(exc: Any, base_url: str) -> str:
    return (
        f"cannot reach {_host(base_url)}{_attempts(exc)}: {exc.message} (check your network "
        "and --base-url / DATAWRAPPER_BASE_URL)"
    )


def _msg_timeout(exc: Any, base_url: str) -> str:
    return (
        f"timed out talking to {_host(base_url)}{_attempts(exc)}: {exc.message}; try again or "
        "raise --timeout"
    )


def _msg_transport(exc: Any, base_url: str) -> str:
    return f"network error talking to {_host(base_url)}{_attempts(exc)}: {exc.message}"


def _msg_plain(exc: Any, base_url: str) -> str:
    return str(getattr(exc, "message", exc))


def _msg_import(exc: Any, base_url: str) -> str:
    return f"missing dependency: {exc}"


def _msg_os(exc: Any, base_url: str) -> str:
    where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
    return f"cannot access{where}: {exc.strerror or exc}"


def _msg_internal(exc: Any, base_url: str) -> str:
    return (
        f"internal error: {type(exc).__name__}: {exc} (run again with --verbose for the "
        "traceback, and please report it)"
    )


@dataclass(frozen=True)
class ErrorRule:
    """How one exception class is reported: its exit code and its one-line message."""

    exc_type: type[BaseException]
    exit_code: int
    message: Callable[[Any, str], str]


#: Exceptions to exit codes and messages, most specific first; the first match wins.
ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(CLIError, EXIT_USAGE, _msg_cli),
    ErrorRule(MissingTokenError, EXIT_USAGE, _msg_missing_token),
    ErrorRule(InvalidRequestError, EXIT_USAGE, _msg_invalid),
    ErrorRule(UnauthorizedError, EXIT_AUTH, _msg_unauthorized),
    ErrorRule(ForbiddenError, EXIT_AUTH, _msg_forbidden),
    ErrorRule(NotFoundError, EXIT_NOT_FOUND, _msg_not_found),
    ErrorRule(RateLimitError, EXIT_RATE_LIMITED, _msg_rate_limited),
    ErrorRule(ServerError, EXIT_SERVER, _msg_server),
    ErrorRule(FailedRequestError, EXIT_FAILED, _msg_failed),
    ErrorRule(TLSError, EXIT_NETWORK, _msg_tls),
    ErrorRule(ConnectError, EXIT_NETWORK, _msg_connect),
    ErrorRule(TimeoutException, EXIT_NETWORK, _msg_timeout),
    ErrorRule(TransportError, EXIT_NETWORK, _msg_transport),
    ErrorRule(DeadlineExceeded, EXIT_NETWORK, _msg_plain),
    ErrorRule(PartialFailureError, EXIT_FAILED, _msg_plain),
    ErrorRule(DatawrapperError, EXIT_FAILED, _msg_plain),
    ErrorRule(ImportError, EXIT_USAGE, _msg_import),
    ErrorRule(OSError, EXIT_USAGE, _msg_os),
    ErrorRule(Exception, EXIT_FAILED, _msg_internal),
)


def _one_line(text: str) -> str:
    return redact_text(" ".join(text.split()))


def describe_error(exc: BaseException, *, base_url: str = DEFAULT_BASE_URL) -> tuple[int, str]:
    """The exit code and the one-line message (token redacted) that stand for ``exc``."""
    for rule in ERROR_TABLE:
        if isinstance(exc, rule.exc_type):
            code = exc.exit_code if isinstance(exc, CLIError) else rule.exit_code
            return code, _one_line(rule.message(exc, base_url))
    return EXIT_FAILED, _one_line(str(exc))  # pragma: no cover - Exception matches everything


def _error_details(exc: BaseException) -> str:
    """The attempt history and traceback shown with ``--verbose`` (redacted)."""
    lines: list[str] = []
    for attempt in getattr(exc, "attempts", ()) or ():
        outcome = attempt.status_code if attempt.status_code is not None else attempt.error
        wait = f", then waited {attempt.delay:.3f} s" if attempt.delay is not None else ""
        why = f" ({attempt.reason})" if attempt.reason else ""
        lines.append(
            f"  attempt {attempt.number}: {attempt.method} {attempt.url} -> {outcome} "
            f"in {attempt.elapsed * 1000:.0f} ms{wait}{why}"
        )
    if getattr(exc, "outcome_unknown", False):
        lines.append("  the request may have reached the server: its outcome is unknown")
    response = getattr(exc, "response", None)
    if response is not None and response.content:
        body = response.content[:2000].decode("utf-8", "replace")
        lines.append(f"  response body: {body}")
    lines.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
    return redact_text("\n".join(lines))


# --------------------------------------------------------------------------- output helpers


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _RedactingFormatter(logging.Formatter):
    """A formatter whose output never contains a registered secret or a Bearer token."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


@contextlib.contextmanager
def _verbose_logging(enabled: bool) -> Iterator[None]:
    """DEBUG logging of every library to stderr for the duration of one command."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


class Progress:
    """A progress bar on stderr: tqdm when installed, else a plain counter line.

    ``enabled=None`` shows it only when stderr is a terminal.
    """

    def __init__(self, total: int, desc: str, *, enabled: bool | None = None) -> None:
        self.total = total
        self.desc = desc
        self.done = 0
        self.failed = 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None
        self._last_print = 0.0
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                self._bar = None
            else:
                self._bar = tqdm(
                    total=total, desc=desc, unit="chart", file=sys.stderr, leave=True, ncols=90
                )

    def update(self, *, failed: bool = False) -> None:
        """Count one finished item."""
        self.done += 1
        self.failed += int(failed)
        if not self.enabled:
            return
        if self._bar is not None:
            if failed:
                self._bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last_print >= 0.2 or self.done == self.total:
            self._last_print = now
            extra = f", {self.failed} failed" if self.failed else ""
            sys.stderr.write(f"\r{self.desc}: {self.done}/{self.total}{extra}")
            sys.stderr.flush()

    def close(self) -> None:
        """Finish the bar (idempotent)."""
        if not self.enabled:
            return
        self.enabled = False
        if self._bar is not None:
            self._bar.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------- client from options


def _read_token(args: argparse.Namespace) -> str | None:
    """The token from ``--token-file`` (its first non-empty line), else the environment."""
    path = getattr(args, "token_file", None)
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise CLIError(f"cannot read --token-file {path}: {reason}") from None
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise CLIError(f"--token-file {path} is empty: put the API token on its first line")
        register_secret(lines[0])
        return lines[0]
    token = os.environ.get("DATAWRAPPER_ACCESS_TOKEN", "").strip()
    register_secret(token)
    return token or None


def _base_url(args: argparse.Namespace) -> str:
    return str(
        getattr(args, "base_url", None)
        or os.environ.get("DATAWRAPPER_BASE_URL")
        or DEFAULT_BASE_URL
    )


def make_client(args: argparse.Namespace, *, workers: int = 1) -> Datawrapper:
    """A :class:`Datawrapper` configured from the global options, with a token (or an error)."""
    token = _read_token(args)
    if token is None:
        raise MissingTokenError("no API token")
    kwargs: dict[str, Any] = {}
    if args.max_retries is not None:
        kwargs["retry"] = RetryPolicy(max_retries=args.max_retries)
    if args.timeout is not None:
        kwargs["timeout"] = Timeout(args.timeout)
    if args.ca_bundle:
        if not Path(args.ca_bundle).exists():
            raise CLIError(f"--ca-bundle {args.ca_bundle}: no such file")
        kwargs["verify"] = args.ca_bundle
    size = max(10, workers)
    return Datawrapper(
        token,
        base_url=_base_url(args),
        transport=args.backend,
        pool=PoolConfig(max_connections=size, max_keepalive_connections=size),
        **kwargs,
    )


# --------------------------------------------------------------------------- charts commands


def _read_csv(path: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CLIError(f"cannot read {path}: {exc.strerror}") from None
    if not data.strip():
        raise CLIError(f"{path} is empty: give a CSV file with a header row and data")
    return data


def _public_url(info: Any) -> str | None:
    """The public URL from a publish answer (``{"data", "version", "url"}``) or chart JSON."""
    if not isinstance(info, dict):
        return None
    url = info.get("url") or info.get("publicUrl")
    if not url and isinstance(info.get("data"), dict):
        url = info["data"].get("publicUrl")
    if isinstance(url, str) and url.startswith("//"):
        url = "https:" + url
    return url if isinstance(url, str) and url else None


def _export_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in ("width", "height", "zoom", "scale"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = value
    for flag in ("plain", "transparent", "dark"):
        if getattr(args, flag, False):
            params[flag] = True
    return params


def _write_bytes(target: str, data: bytes) -> str:
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return "stdout"
    try:
        Path(target).write_bytes(data)
    except OSError as exc:
        raise CLIError(f"cannot write {target}: {exc.strerror}") from None
    return target


def _export_target(fmt: str | None, output: str | None) -> tuple[str | None, str | None]:
    """(format, output path) for ``--export``/``-o``: the format may come from the suffix."""
    if fmt is None and output is not None:
        suffix = Path(output).suffix.lower().lstrip(".")
        if suffix not in EXPORT_FORMATS:
            raise CLIError(
                f"-o {output}: say the format with --export png|pdf|svg (the file name does "
                "not end in .png, .pdf or .svg)"
            )
        fmt = suffix
    return fmt, output


def _print_json(value: Any) -> None:
    _out(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))


def cmd_charts_create(args: argparse.Namespace) -> int:
    """Create one chart from a CSV file; optionally publish and export it."""
    fmt, output = _export_target(args.export, args.output)
    data = _read_csv(args.file)
    title = args.title or (Path(args.file).stem if args.file != "-" else "New chart")
    with make_client(args) as client:
        chart = client.create_chart(
            title=title, chart_type=args.type, data=data, folder_id=args.folder
        )
        chart_id = str(chart["id"])
        result: dict[str, Any] = {"id": chart_id, "title": title, "type": args.type}
        if not args.json:
            _out(f"created {chart_id} {title!r} ({args.type})")
        if args.publish:
            url = _public_url(client.publish_chart(chart_id))
            result["public_url"] = url
            if not args.json:
                _out(f"published {chart_id}: {url}")
        if fmt is not None:
            content = client.export_chart(chart_id, fmt, **_export_params(args))
            where = _write_bytes(output or f"{chart_id}.{fmt}", content)
            result["export"] = where
            if not args.json and where != "stdout":
                _out(f"exported {chart_id} as {fmt} to {where} ({len(content)} bytes)")
    if args.json:
        _print_json(result)
    return EXIT_OK


def cmd_charts_publish(args: argparse.Namespace) -> int:
    """Publish a chart and print its public URL."""
    with make_client(args) as client:
        url = _public_url(client.publish_chart(args.chart_id))
    _out(f"published {args.chart_id}: {url}")
    return EXIT_OK


def cmd_charts_export(args: argparse.Namespace) -> int:
    """Export a chart as PNG, PDF or SVG to a file (``-o -`` writes to stdout)."""
    output = args.output or f"{args.chart_id}.{args.format}"
    with make_client(args) as client:
        content = client.export_chart(args.chart_id, args.format, **_export_params(args))
    where = _write_bytes(output, content)
    if where != "stdout":
        _out(f"exported {args.chart_id} as {args.format} to {where} ({len(content)} bytes)")
    return EXIT_OK


def cmd_charts_get(args: argparse.Namespace) -> int:
    """Print a chart's JSON."""
    with make_client(args) as client:
        chart = client.get_chart(args.chart_id)
    _print_json(chart)
    return EXIT_OK


def cmd_charts_list(args: argparse.Namespace) -> int:
    """List charts as a table (or JSON)."""
    with make_client(args) as client:
        charts = client.get_charts(
            limit=args.limit,
            search=args.search,
            published=True if args.published else None,
            folder_id=args.folder,
        )
    if args.json:
        _print_json(charts)
        return EXIT_OK
    if not charts:
        _out("no charts")
        return EXIT_OK
    rows = [
        (
            str(c.get("id", "")),
            str(c.get("type", "")),
            "yes" if c.get("publishedAt") or c.get("publicVersion") else "no",
            str(c.get("title", "")),
        )
        for c in charts
    ]
    _out(_table(("ID", "TYPE", "PUBLISHED", "TITLE"), rows))
    return EXIT_OK


def cmd_charts_delete(args: argparse.Namespace) -> int:
    """Delete a chart."""
    with make_client(args) as client:
        client.delete_chart(args.chart_id)
    _out(f"deleted {args.chart_id}")
    return EXIT_OK


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, right: Iterable[int] = ()
) -> str:
    """A plain-text table with columns padded to their widest cell."""
    body = [list(map(str, row)) for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    right_set = set(right)

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if index in right_set else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in body)])


# --------------------------------------------------------------------------- bulk


class ResultsFile:
    """The JSON-lines results of a bulk job: one line per state change of a file, appended.

    Each line is written, flushed and fsync'ed as soon as it is known, so an interrupted or
    killed run loses nothing: a chart id is recorded the moment the chart exists. When a file
    has several lines, the last one is its state. Thread-safe.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.previous: dict[str, dict[str, Any]] = {}
        self.ignored_lines = 0
        if path.exists():
            self._load()
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CLIError(f"cannot read the results file {self.path}: {exc}") from None
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                self.ignored_lines += 1  # a line torn by a crash: the file is redone
                continue
            if isinstance(record, dict) and isinstance(record.get("file"), str):
                self.previous[record["file"]] = record
            else:
                self.ignored_lines += 1

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one line and make it durable before returning."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if self._handle is None:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._handle = self.path.open("a", encoding="utf-8")
                except OSError as exc:
                    raise CLIError(f"cannot write the results file {self.path}: {exc}") from None
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None


# Errors after which no further file can succeed now: stop the job; a re-run continues it.
_FATAL = (AuthenticationError, ConnectError, MissingTokenError)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_done(previous: dict[str, Any] | None, publish: bool) -> bool:
    if previous is None or previous.get("status") != "ok":
        return False
    return bool(previous.get("published")) or not publish


class _BulkJob:
    """Creates, fills (and publishes) one chart per CSV file, recording every step at once.

    :meth:`run_one` runs on the worker threads of :func:`~datawrapper._bulk.bulk_map`. It
    records a failure and returns; only a :class:`RateLimitError` (the client's retries used
    up) is re-raised, so that the bulk runner pauses every worker or stops the batch. After a
    fatal error (401/403, host unreachable) the files not started yet are skipped.
    """

    def __init__(
        self,
        client: Datawrapper,
        results: ResultsFile,
        progress: Progress,
        *,
        chart_type: str,
        publish: bool,
        title_prefix: str,
    ) -> None:
        self.client = client
        self.results = results
        self.progress = progress
        self.chart_type = chart_type
        self.publish = publish
        self.title_prefix = title_prefix
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.in_flight = 0
        self.done: list[str] = []
        self.failed: list[tuple[str, str]] = []
        self.fatal: BaseException | None = None
        self.rate_limited: RateLimitError | None = None

    def _record(self, name: str, status: str, chart_id: str | None, **extra: Any) -> None:
        record = {"file": name, "status": status, "chart_id": chart_id, **extra, "time": _now()}
        self.results.write(record)

    def _finish(self, name: str, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.done.append(name)
            else:
                self.failed.append((name, error))
            self.progress.update(failed=error is not None)

    def wait_idle(self, poll: float = 0.1) -> None:
        """Return once no file is being worked on (after Ctrl-C: let in-flight files finish).

        This does not rely on ``Thread.join``: on CPython 3.11 a join interrupted by Ctrl-C
        marks the thread as stopped while it still runs, so a second join returns at once.
        """
        with self.idle:
            while self.in_flight:
                self.idle.wait(poll)

    def run_one(self, path: Path) -> None:
        with self.lock:
            if self.stop.is_set():
                return  # stopped (fatal error or Ctrl-C): leave the file for the next run
            self.in_flight += 1
        try:
            self._run_one(path)
        finally:
            with self.idle:
                self.in_flight -= 1
                self.idle.notify_all()

    def _run_one(self, path: Path) -> None:
        name = path.name
        previous = self.results.previous.get(name) or {}
        chart_id: str | None = previous.get("chart_id") or None
        step = "read"
        try:
            data = _read_csv(str(path))
            if chart_id is None:
                step = "create"
                chart = self.client.create_chart(
                    title=f"{self.title_prefix}{path.stem}", chart_type=self.chart_type
                )
                chart_id = str(chart["id"])
                self._record(name, "created", chart_id, step="create")
            step = "upload"
            self.client.add_data(chart_id, data)
            url = EDITOR_URL.format(id=chart_id)
            if self.publish:
                step = "publish"
                url = _public_url(self.client.publish_chart(chart_id)) or url
            self._record(name, "ok", chart_id, url=url, published=self.publish, error=None)
        except (DatawrapperError, CLIError) as exc:
            _, message = describe_error(exc, base_url=self.client.base_url)
            self._record(
                name, "failed", chart_id, step=step, error=message, error_type=type(exc).__name__
            )
            self._finish(name, message)
            if isinstance(exc, RateLimitError):
                with self.lock:
                    self.rate_limited = exc
                raise
            if isinstance(exc, _FATAL):
                with self.lock:
                    if self.fatal is None:
                        self.fatal = exc
                self.stop.set()
            return
        self._finish(name, None)


def cmd_bulk(args: argparse.Namespace) -> int:
    """One chart per CSV file in a directory, concurrently, resumable through a results file."""
    directory = Path(args.directory)
    if not directory.is_dir():
        raise CLIError(f"{directory} is not a directory")
    if not 1 <= args.workers <= 64:
        raise CLIError(f"--workers must be from 1 to 64, got {args.workers}")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise CLIError(f"no .csv files in {directory}")
    results = ResultsFile(Path(args.results) if args.results else directory / DEFAULT_RESULTS_NAME)
    if results.ignored_lines:
        _err(
            f"note: ignored {results.ignored_lines} unreadable line(s) of {results.path}; "
            "those files are redone"
        )
    todo = [p for p in files if not _is_done(results.previous.get(p.name), args.publish)]
    skipped = len(files) - len(todo)
    if not todo:
        _out(f"nothing to do: all {len(files)} files are done (see {results.path})")
        return EXIT_OK
    interrupted = False
    with make_client(args, workers=args.workers) as client:
        progress = Progress(len(todo), "charts", enabled=args.progress)
        job = _BulkJob(
            client,
            results,
            progress,
            chart_type=args.type,
            publish=args.publish,
            title_prefix=args.title_prefix,
        )
        try:
            bulk_map(client, job.run_one, todo, max_workers=args.workers)
        except KeyboardInterrupt:
            interrupted = True
            job.stop.set()
            _err("\ninterrupted: finishing the files in flight, then stopping")
            job.wait_idle()
        finally:
            progress.close()
            results.close()
    not_started = len(todo) - len(job.done) - len(job.failed)
    _out(
        f"{len(files)} files: {len(job.done)} done now, {skipped} already done, "
        f"{len(job.failed)} failed"
        + (f", {not_started} not started" if not_started else "")
        + f"; results in {results.path}"
    )
    for name, error in job.failed:
        _err(f"failed: {name}: {error}")
    if interrupted:
        _err("interrupted: run the same command again to continue where it stopped")
        return EXIT_INTERRUPTED
    if job.fatal is not None:
        raise job.fatal
    if not_started and job.rate_limited is not None:
        raise job.rate_limited
    if job.failed or not_started:
        _err("run the same command again to retry the files that are not done")
        return EXIT_FAILED
    return EXIT_OK


# --------------------------------------------------------------------------- fake-server


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*$")


def parse_rate(text: str) -> float:
    """Requests per second from ``"10"``, ``"10/s"`` or ``"600/min"``."""
    match = _RATE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid rate {text!r}: use requests per second such as 10, 10/s or 600/min"
        )
    value = float(match.group(1))
    return value / 60.0 if (match.group(2) or "s").startswith("m") else value


def cmd_fake_server(args: argparse.Namespace) -> int:
    """Serve the fake Datawrapper API until Ctrl-C (or SIGTERM)."""
    from .testing import FakeDatawrapperAPI, FakeServer, rate_limited

    token = args.token
    api = FakeDatawrapperAPI(tokens=[token])
    app: Any = api
    burst = 0
    if args.rate_limit is not None:
        burst = args.burst if args.burst is not None else max(1, round(args.rate_limit))
        if burst < 1:
            raise CLIError(f"--burst must be at least 1, got {burst}")
        app = rate_limited(api, rate=args.rate_limit, burst=burst)
    if not 0 <= args.rtt_ms <= 10_000:
        raise CLIError(f"--rtt-ms must be from 0 to 10000, got {args.rtt_ms:g}")
    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port must be from 0 to 65535, got {args.port}")
    server = FakeServer(app, host=args.host, port=args.port, tls=args.tls, rtt=args.rtt_ms / 1000.0)
    try:
        server.start()
    except OSError as exc:
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: Ctrl-C still works
        previous = signal.signal(signal.SIGTERM, on_term)
    try:
        _out(f"fake Datawrapper API listening on {server.url}")
        _out(f"  token:    {token}   (the fake's own token, not a secret)")
        if args.tls:
            _out(f"  CA file:  {server.ca_path}")
        extras = []
        if args.rtt_ms:
            extras.append(f"round trip {args.rtt_ms:g} ms")
        if args.rate_limit is not None:
            extras.append(f"rate limit {args.rate_limit:g}/s, burst {burst}")
        if extras:
            _out("  emulating: " + ", ".join(extras))
        _out("use it from your code or tests with:")
        _out(f"  export DATAWRAPPER_BASE_URL={server.url}")
        _out(f"  export DATAWRAPPER_ACCESS_TOKEN={token}")
        if args.tls:
            _out(f"  (and verify={server.ca_path!r}, or --ca-bundle {server.ca_path})")
        _out("press Ctrl-C to stop")
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        requests_seen, connections = server.requests_received, server.connections_opened
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    _out(f"stopped after {requests_seen} requests on {connections} connections")
    return EXIT_OK


# --------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the embedded demo and print its table."""
    from . import _demo

    if not 1 <= args.charts <= 1000:
        raise CLIError(f"--charts must be from 1 to 1000, got {args.charts}")
    if not 1 <= args.workers <= 64:
        raise CLIError(f"--workers must be from 1 to 64, got {args.workers}")
    if args.rtt_ms < 0 or args.rtt_ms > 1000:
        raise CLIError(f"--rtt-ms must be from 0 to 1000, got {args.rtt_ms:g}")

    def progress(total: int, desc: str) -> Progress:
        return Progress(total, desc, enabled=args.progress)

    report = _demo.run_demo(
        charts=args.charts,
        rtt=args.rtt_ms / 1000.0,
        workers=args.workers,
        backend=args.backend,
        max_retries=args.max_retries,
        progress=progress,
        note=_err,
    )
    _out(_demo.render_report(report))
    return EXIT_OK if report.ours_failed == 0 else EXIT_FAILED


# --------------------------------------------------------------------------- the parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes; on subcommands they only override when given."""

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--backend",
        choices=BACKENDS,
        default=default("requests"),
        help="HTTP library underneath (default: requests; httpx needs the httpx extra)",
    )
    group.add_argument(
        "--max-retries",
        type=_non_negative_int,
        metavar="N",
        default=default(None),
        help="retries per request after a 429, 5xx or network error (default 3; 0: none)",
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        default=default(None),
        help="per-attempt connect/read/write limit (default: 5 s connect, 30 s read; "
        "exports and publishes get longer reads)",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=default(None),
        help="API base URL (default: $DATAWRAPPER_BASE_URL or https://api.datawrapper.de)",
    )
    group.add_argument(
        "--token-file",
        metavar="PATH",
        default=default(None),
        help="read the API token from this file (default: $DATAWRAPPER_ACCESS_TOKEN)",
    )
    group.add_argument(
        "--ca-bundle",
        metavar="PATH",
        default=default(None),
        help="trust this CA bundle (PEM) for TLS, e.g. the fake server's CA file",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="DEBUG logs on stderr (token redacted) and full error details",
    )


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: only when stderr is a terminal)",
    )


def _export_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("export options")
    group.add_argument("--width", type=int, help="width (in --unit, default px)")
    group.add_argument("--height", type=int, help="height; default: the chart's own")
    group.add_argument("--zoom", type=float, help="PNG zoom factor (default 2)")
    group.add_argument("--scale", type=float, help="PDF scale (default 1)")
    group.add_argument("--plain", action="store_true", help="without header and footer")
    group.add_argument("--transparent", action="store_true", help="transparent background")
    group.add_argument("--dark", action="store_true", help="dark mode")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Wraps each paragraph of a description or epilog; keeps indented lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith(" ") or "\n " in paragraph:
                paragraphs.append(textwrap.indent(paragraph, indent))
            else:
                paragraphs.append(
                    textwrap.fill(
                        " ".join(paragraph.split()),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                    )
                )
        return "\n\n".join(paragraphs)


_FORMATTER = _Formatter


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``datawrapper`` command."""
    from . import __version__

    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=_FORMATTER,
        description=(
            "Datawrapper from the shell: create, publish and export charts, bulk jobs that "
            "resume, and a fake Datawrapper API for offline tests.\n\n"
            "Start with:  datawrapper demo   (no account or token needed)"
        ),
        epilog=(
            "The API token comes from $DATAWRAPPER_ACCESS_TOKEN or --token-file and is never "
            f"printed.\n\nexit codes:\n{codes}"
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, top=True)
    parent = argparse.ArgumentParser(add_help=False)
    _add_global_options(parent, top=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    # demo
    demo = commands.add_parser(
        "demo",
        parents=[parent],
        formatter_class=_FORMATTER,
        help="run a bulk job against an embedded fake API and compare clients (no token needed)",
        description=(
            "Starts the fake Datawrapper API on 127.0.0.1 (TLS, an emulated WAN round trip, a "
            "rate limit answering 429 with Retry-After, a few injected 5xx), then creates, "
            "fills and publishes --charts charts four ways: the community client's way (a new "
            "connection per request, no retries) and this client's pooled connections with "
            "retries, each serially and with --workers threads. Prints wall time, requests, "
            "connections opened, retries, 429s absorbed and failures."
        ),
    )
    demo.add_argument("--charts", type=int, default=24, metavar="N", help="charts per run (24)")
    demo.add_argument(
        "--rtt-ms",
        type=float,
        default=40.0,
        metavar="MS",
        help="emulated network round trip in milliseconds (40)",
    )
    demo.add_argument(
        "--workers", type=int, default=8, metavar="N", help="threads of the concurrent runs (8)"
    )
    _progress_option(demo)
    demo.set_defaults(handler=cmd_demo)

    # charts
    charts = commands.add_parser(
        "charts",
        parents=[parent],
        formatter_class=_FORMATTER,
        help="create, publish, export, get, list and delete charts",
        description="Work with single charts. Needs an API token.",
    )
    charts.set_defaults(handler=None, parser=charts)
    chart_commands = charts.add_subparsers(dest="charts_command", metavar="ACTION", title="actions")

    create = chart_commands.add_parser(
        "create",
        parents=[parent],
        formatter_class=_FORMATTER,
        help="create a chart from a CSV file",
        description="Create a chart from a CSV file (- reads stdin), optionally publish and "
        "export it.",
        epilog="example:\n  datawrapper charts create sales.csv --type d3-bars --title Sales "
        "--publish --export png -o sales.png",
    )
    create.add_argument("file", metavar="FILE.csv", help="the chart's data (- for stdin)")
    create.add_argument("--type", default="d3-bars", help="chart type (default d3-bars)")
    create.add_argument("--title", help="chart title (default: the file name without .csv)")
    create.add_argument("--folder", type=int, metavar="ID", help="create it in this folder")
    create.add_argument("--publish", action="store_true", help="publish it after creating it")
    create.add_argument("--export", choices=EXPORT_FORMATS, help="also export it in this format")
    create.add_argument(
        "-o", "--output", metavar="FILE", help="export file (default: ID.FORMAT; - for stdout)"
    )
    create.add_argument("--json", action="store_true", help="print the result as JSON")
    _export_options(create)
    create.set_defaults(handler=cmd_charts_create)

    publish = chart_commands.add_parser(
        "publish", parents=[parent], help="publish a chart and print its public URL"
    )
    publish.add_argument("chart_id", metavar="ID")
    publish.set_defaults(handler=cmd_charts_publish)

    export = chart_commands.add_parser(
        "export",
        parents=[parent],
        formatter_class=_FORMATTER,
        help="export a chart as PNG, PDF or SVG",
        epilog="example:\n  datawrapper charts export aBc12 --format pdf -o chart.pdf",
    )
    export.add_argument("chart_id", metavar="ID")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="png", help="(default png)")
    export.add_argument(
        "-o", "--output", metavar="FILE", help="output file (default: ID.FORMAT; - for stdout)"
    )
    _export_options(export)
    export.set_defaults(handler=cmd_charts_export)

    get = chart_commands.add_parser("get", parents=[parent], help="print a chart's JSON")
    get.add_argument("chart_id", metavar="ID")
    get.set_defaults(handler=cmd_charts_get)

    listing = chart_commands.add_parser("list", parents=[parent], help="list your charts")
    listing.add_argument("--limit", type=int, default=25, help="at most this many (25)")
    listing.add_argument("--search", help="only charts matching this text")
    listing.add_argument("--published", action="store_true", help="only published charts")
    listing.add_argument("--folder", type=int, metavar="ID", help="only charts in this folder")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(handler=cmd_charts_list)

    delete = chart_commands.add_parser("delete", parents=[parent], help="delete a chart")
    delete.add_argument("chart_id", metavar="ID")
    delete.set_defaults(handler=cmd_charts_delete)

    # bulk
    bulk = commands.add_parser(
        "bulk",
        parents=[parent],
        formatter_class=_FORMATTER,
        help="one chart per CSV file in a directory, concurrently; re-runs resume",
        description=(
            "Creates one chart per *.csv file in DIR (title: the file name), uploads its data "
            "and optionally publishes it, on --workers threads over one connection pool. "
            "Every step is recorded at once in a JSON-lines results file (file -> chart id, "
            "URL or error), so running the same command again skips the files that are done, "
            "finishes the ones that were half-done without creating a second chart, and "
            "retries the failed ones."
        ),
        epilog="example:\n  datawrapper bulk ./data --type d3-lines --workers 8 --publish",
    )
    bulk.add_argument("directory", metavar="DIR", help="directory of .csv files")
    bulk.add_argument("--type", default="d3-bars", help="chart type (default d3-bars)")
    bulk.add_argument("--workers", type=int, default=8, metavar="N", help="threads (8)")
    bulk.add_argument("--publish", action="store_true", help="publish every chart")
    bulk.add_argument(
        "--results",
        metavar="PATH",
        help=f"results file (default: DIR/{DEFAULT_RESULTS_NAME})",
    )
    bulk.add_argument("--title-prefix", default="", metavar="TEXT", help="prefix of every title")
    _progress_option(bulk)
    bulk.set_defaults(handler=cmd_bulk)

    # fake-server
    fake = commands.add_parser(
        "fake-server",
        parents=[parent],
        formatter_class=_FORMATTER,
        help="serve the fake Datawrapper API for your own integration tests",
        description=(
            "Serves the in-memory fake Datawrapper API v3 (charts, data, publishing, exports, "
            "folders, a user) until Ctrl-C. Point DATAWRAPPER_BASE_URL at it and use the "
            "token it prints."
        ),
        epilog="example:\n  datawrapper fake-server --port 8765 --tls --rtt-ms 40 --rate-limit 10/s",
    )
    fake.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    fake.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    fake.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA")
    fake.add_argument(
        "--rtt-ms", type=float, default=0.0, metavar="MS", help="emulated round trip (0)"
    )
    fake.add_argument(
        "--rate-limit",
        type=parse_rate,
        metavar="N/s",
        help="answer 429 with Retry-After above this rate (e.g. 10/s or 600/min)",
    )
    fake.add_argument(
        "--burst", type=int, metavar="N", help="burst of the rate limit (default: one second's)"
    )
    fake.add_argument(
        "--token", default="fake-token", help="the Bearer token it accepts (fake-token)"
    )
    fake.set_defaults(handler=cmd_fake_server)
    return parser


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        sub = getattr(args, "parser", parser)
        sub.print_help(sys.stderr)
        return EXIT_USAGE
    with _verbose_logging(args.verbose):
        try:
            return int(handler(args))
        except KeyboardInterrupt:
            _err("datawrapper: interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, as other tools do.
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            return EXIT_OK
        except Exception as exc:
            code, line = describe_error(exc, base_url=_base_url(args))
            _err(f"{PROG}: error: {line}")
            if args.verbose:
                _err(_error_details(exc))
            return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
