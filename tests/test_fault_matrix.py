"""The fault matrix: every fault the fake server injects x every backend x GET, PUT and POST.

:data:`ROWS` is the specification, one row per fault, read it as a table: what the client
does (result, attempts, waits, charts created) when the server misbehaves that way, the same
on every backend. One table-driven test checks every cell over real loopback sockets against
:class:`~datawrapper.testing.FakeDatawrapperAPI`; the same table is rendered into
``docs/fault-matrix.md``::

    python -m tests.test_fault_matrix --render > docs/fault-matrix.md

Per cell it checks: the exception class (or success), the attempts (the server's count of
requests for that method and path, and ``exc.attempts`` or the hook events), the waits the
retry engine chose (recorded by an injected ``sleep``, never slept), the server's count of
created charts (never more than one per call), whether the error says the outcome is
unknown, and a bound on the total time derived from :data:`POLICY` and :data:`TIMEOUT`:
``sum(waits) + attempts * (connect + write + read * reads)``, checked on the computed waits
plus the real elapsed time.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

import datawrapper as dw
from datawrapper._hooks import Event
from datawrapper.testing import FakeDatawrapperAPI, FakeServer, Fault
from datawrapper.transport import Headers, Request

TOKEN = "fault-matrix-token-3a7c1e"
BACKENDS = ("requests", "httpx", "urllib3")
METHODS = ("GET", "PUT", "POST")
DOC = Path(__file__).resolve().parent.parent / "docs" / "fault-matrix.md"

#: The policy of every cell: 3 attempts, backoff 0.1 s then 0.2 s (no jitter), Retry-After
#: honoured up to 10 s.
POLICY = dw.RetryPolicy(
    max_retries=2, backoff_factor=0.1, backoff_max=1.0, jitter=0.0, max_retry_after=10.0
)
#: Short real timeouts: a stall longer than 0.3 s is a read timeout.
TIMEOUT = dw.Timeout(connect=0.5, read=0.3, write=0.5, pool=0.5)

ONCE, ALWAYS = 1, 100  # how many matching requests the fault hits (ALWAYS: every attempt)
STALL = 0.6  # seconds a stalling server waits: twice the read timeout

Wait = float | tuple[float, float]  # an exact wait, or a (low, high) range for HTTP-dates


@dataclass(frozen=True)
class Expect:
    """What one cell must show."""

    error: type[Exception] | None  # None: the call returns a response
    attempts: int
    waits: tuple[Wait, ...] = ()
    created: int = 0  # charts the server created during the call (POST /v3/charts)
    unknown: bool = False  # the error says the server may have processed the request
    retry_after: float | None = None  # RateLimitError.retry_after, when checked

    def max_wait(self) -> float:
        return sum(w[1] if isinstance(w, tuple) else w for w in self.waits)

    def render(self, method: str, reads: int) -> str:
        """The cell as text for the docs."""
        text = "**ok**" if self.error is None else f"`{self.error.__name__}`"
        text += f" · {self.attempts} {'attempt' if self.attempts == 1 else 'attempts'}"
        if self.waits:
            shown = [
                f"{w[0]:g} to {w[1]:g}" if isinstance(w, tuple) else f"{w:g}" for w in self.waits
            ]
            text += f" · waits {', '.join(shown)} s"
        if self.unknown:
            text += " · outcome unknown"
        if self.retry_after is not None:
            text += f" · retry_after={self.retry_after:g}"
        if method == "POST":
            text += f" · {self.created} {'chart' if self.created == 1 else 'charts'}"
        return text + f" · ≤ {time_bound(self, reads):.1f} s"


def ok(attempts: int = 1, *waits: Wait, created: int = 0) -> Expect:
    """The call succeeds after ``attempts`` attempts, waiting ``waits`` in between."""
    return Expect(None, attempts, tuple(waits), created)


def fails(
    error: type[Exception],
    attempts: int,
    *waits: Wait,
    created: int = 0,
    unknown: bool = False,
    retry_after: float | None = None,
) -> Expect:
    """The call raises ``error`` after ``attempts`` attempts."""
    return Expect(error, attempts, tuple(waits), created, unknown, retry_after)


@dataclass(frozen=True)
class Row:
    """One fault and what each method class does under it (GET, PUT, POST)."""

    fault: str
    make: Callable[[], Fault | None]  # None: nothing listens on the port
    times: int
    get: Expect
    put: Expect
    post: Expect
    reads: int = 1  # socket reads per attempt that may each wait up to Timeout.read

    def expect(self, method: str) -> Expect:
        return {"GET": self.get, "PUT": self.put, "POST": self.post}[method]

    @property
    def id(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.fault.lower()).strip("-")


def idempotent_and_post(get_put: Expect, post: Expect) -> dict[str, Expect]:
    """GET and PUT behave alike (both idempotent); POST is the chart creation."""
    return {"get": get_put, "put": get_put, "post": post}


def http_date(seconds_from_now: float) -> str:
    return format_datetime(
        datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now), usegmt=True
    )


HTML_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"

# fmt: off
#: The specification. Backoff waits are 0.1 s then 0.2 s; GET and PUT are retried after any
#: retryable failure; POST /v3/charts only when the server certainly did not process it.
ROWS: tuple[Row, ...] = (
    # -- 429 and each form of Retry-After
    Row("429, Retry-After: 1 (seconds)", lambda: Fault.rate_limited("1"), ONCE,
        **idempotent_and_post(ok(2, 1.0), ok(2, 1.0, created=1))),
    Row("429, Retry-After: 0.5 (fractional)", lambda: Fault.rate_limited("0.5"), ONCE,
        **idempotent_and_post(ok(2, 0.5), ok(2, 0.5, created=1))),
    Row("429, retry-after-ms: 1500", lambda: Fault.rate_limited("1500", header="retry-after-ms"),
        ONCE, **idempotent_and_post(ok(2, 1.5), ok(2, 1.5, created=1))),
    Row("429, Retry-After: HTTP-date 5 s ahead", lambda: Fault.rate_limited(http_date(5)), ONCE,
        **idempotent_and_post(ok(2, (3.5, 5.0)), ok(2, (3.5, 5.0), created=1))),
    Row("429, Retry-After: HTTP-date in the past", lambda: Fault.rate_limited(http_date(-3600)),
        ONCE, **idempotent_and_post(ok(2, 0.0), ok(2, 0.0, created=1))),
    Row("429, Retry-After: -5 (negative)", lambda: Fault.rate_limited("-5"), ONCE,
        **idempotent_and_post(ok(2, 0.0), ok(2, 0.0, created=1))),
    Row("429, Retry-After: soon (garbage)", lambda: Fault.rate_limited("soon"), ONCE,
        **idempotent_and_post(ok(2, 0.1), ok(2, 0.1, created=1))),
    Row("429, Retry-After: 86400 (above max_retry_after)", lambda: Fault.rate_limited("86400"),
        ONCE, **idempotent_and_post(
            fails(dw.RateLimitError, 1, retry_after=86400.0),
            fails(dw.RateLimitError, 1, retry_after=86400.0))),
    Row("429 without Retry-After, every time", lambda: Fault.rate_limited(), ALWAYS,
        **idempotent_and_post(
            fails(dw.RateLimitError, 3, 0.1, 0.2), fails(dw.RateLimitError, 3, 0.1, 0.2))),
    # -- 5xx: retried for GET/PUT; a POST may have been processed, so it is not repeated
    Row("500 Internal Server Error", lambda: Fault.status(500), ONCE,
        **idempotent_and_post(ok(2, 0.1), fails(dw.ServerError, 1, unknown=True))),
    Row("502 Bad Gateway", lambda: Fault.status(502), ONCE,
        **idempotent_and_post(ok(2, 0.1), fails(dw.ServerError, 1, unknown=True))),
    Row("503 Service Unavailable", lambda: Fault.status(503), ONCE,
        **idempotent_and_post(ok(2, 0.1), fails(dw.ServerError, 1, unknown=True))),
    Row("504 Gateway Timeout", lambda: Fault.status(504), ONCE,
        **idempotent_and_post(ok(2, 0.1), fails(dw.ServerError, 1, unknown=True))),
    Row("503 with Retry-After: 2, every time",
        lambda: Fault.status(503, headers={"Retry-After": "2"}), ALWAYS,
        **idempotent_and_post(
            fails(dw.ServerError, 3, 2.0, 2.0), fails(dw.ServerError, 1, unknown=True))),
    Row("502 HTML error page from a proxy, every time",
        lambda: Fault.status(502, headers={"Content-Type": "text/html"}, body=HTML_PAGE), ALWAYS,
        **idempotent_and_post(
            fails(dw.ServerError, 3, 0.1, 0.2), fails(dw.ServerError, 1, unknown=True))),
    Row("503 plain-text (non-JSON) body, every time",
        lambda: Fault.status(503, headers={"Content-Type": "text/plain"},
                             body=b"upstream connect error or disconnect/reset before headers"),
        ALWAYS, **idempotent_and_post(
            fails(dw.ServerError, 3, 0.1, 0.2), fails(dw.ServerError, 1, unknown=True))),
    Row("500 empty body, every time", lambda: Fault.status(500, body=b""), ALWAYS,
        **idempotent_and_post(
            fails(dw.ServerError, 3, 0.1, 0.2), fails(dw.ServerError, 1, unknown=True))),
    # -- stalls and slow bodies (real time, short): a read timeout after sending
    Row(f"stall {STALL:g} s before headers (request processed)",
        lambda: Fault.delay(STALL, process=True), ONCE,
        **idempotent_and_post(
            ok(2, 0.1), fails(dw.ReadTimeout, 1, created=1, unknown=True))),
    Row(f"stall {STALL:g} s before headers (request not processed)",
        lambda: Fault.delay(STALL, process=False), ONCE,
        **idempotent_and_post(ok(2, 0.1), fails(dw.ReadTimeout, 1, unknown=True))),
    Row("slow body: 4 pieces, 0.05 s apart (each read within the timeout)",
        lambda: Fault.slow_body(chunk_delay=0.05, chunks=4), ONCE,
        **idempotent_and_post(ok(1), ok(1, created=1)), reads=4),
    Row(f"slow body: 2 pieces, {STALL:g} s apart (a read times out)",
        lambda: Fault.slow_body(chunk_delay=STALL, chunks=2), ONCE,
        **idempotent_and_post(
            ok(2, 0.1), fails(dw.ReadTimeout, 1, created=1, unknown=True)), reads=2),
    # -- connections that break
    Row("close after the headers", lambda: Fault.close_after_headers(), ONCE,
        **idempotent_and_post(
            ok(2, 0.1), fails(dw.RemoteProtocolError, 1, created=1, unknown=True))),
    Row("truncated body (shorter than Content-Length)", lambda: Fault.truncated_body(), ONCE,
        **idempotent_and_post(
            ok(2, 0.1), fails(dw.RemoteProtocolError, 1, created=1, unknown=True))),
    Row("close before any response", lambda: Fault.close_before_response(), ONCE,
        **idempotent_and_post(ok(2, 0.1), fails(dw.RemoteProtocolError, 1, unknown=True))),
    Row("reset (TCP RST) before any response", lambda: Fault.reset(), ONCE,
        **idempotent_and_post(ok(2, 0.1), fails(dw.ReadError, 1, unknown=True))),
    Row("reset (TCP RST), every time", lambda: Fault.reset(), ALWAYS,
        **idempotent_and_post(
            fails(dw.ReadError, 3, 0.1, 0.2), fails(dw.ReadError, 1, unknown=True))),
    Row("connection refused (closed port)", lambda: None, ALWAYS,
        **idempotent_and_post(
            fails(dw.ConnectError, 3, 0.1, 0.2), fails(dw.ConnectError, 3, 0.1, 0.2))),
)
# fmt: on


def time_bound(expect: Expect, reads: int) -> float:
    """The longest a call may take under :data:`POLICY` and :data:`TIMEOUT` (waits included)."""
    per_attempt = TIMEOUT.connect + TIMEOUT.write + TIMEOUT.read * reads
    return expect.max_wait() + expect.attempts * per_attempt


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_chart(api: FakeDatawrapperAPI, base_url: str) -> str:
    """Create one chart directly in the fake (not through the client) and return its id."""
    response = api(
        Request(
            "POST",
            f"{base_url}/v3/charts",
            Headers({"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}),
            b'{"title": "seed"}',
        )
    )
    return str(json.loads(response.content)["id"])


def call(client: dw.Datawrapper, method: str, chart_id: str) -> dw.Response:
    """The call of each method class: read a chart, replace a chart, create a chart."""
    if method == "GET":
        return client.request("GET", f"/charts/{chart_id}")
    if method == "PUT":
        return client.request("PUT", f"/charts/{chart_id}", json={"title": "replaced"})
    return client.request("POST", "/charts", json={"title": "new"}, idempotent=False)


def target_path(method: str, chart_id: str) -> str:
    return "/v3/charts" if method == "POST" else f"/v3/charts/{chart_id}"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
@pytest.mark.parametrize("backend", BACKENDS)
def test_fault_matrix(backend: str, row: Row, method: str) -> None:
    """Each cell of ROWS holds on each backend: result, attempts, waits, charts, time bound."""
    expect = row.expect(method)
    fault = row.make()
    api = FakeDatawrapperAPI(tokens=[TOKEN], id_seed=7)
    server = FakeServer(api).start() if fault is not None else None
    base_url = server.url if server is not None else f"http://127.0.0.1:{closed_port()}"
    chart_id = seed_chart(api, base_url)
    path = target_path(method, chart_id)
    if server is not None and fault is not None:
        server.faults.add(fault, method=method, path=f"^{path}$", times=row.times)
    created_before = api.created_count
    events: list[Event] = []
    slept: list[float] = []
    client = dw.Datawrapper(
        TOKEN,
        base_url=base_url,
        transport=backend,
        retry=POLICY,
        timeout=TIMEOUT,
        hooks=[events.append],
        sleep=slept.append,
        random=lambda: 0.0,
    )
    error: BaseException | None = None
    started = time.monotonic()
    try:
        call(client, method, chart_id)
    except dw.DatawrapperError as exc:
        error = exc
    finally:
        elapsed = time.monotonic() - started
        client.close()
        if server is not None:
            server.stop()

    # result
    if expect.error is None:
        assert error is None, f"expected success, got {error!r}"
    else:
        assert type(error) is expect.error, f"expected {expect.error.__name__}, got {error!r}"
    # attempts, seen by the client and by the server
    starts = [e for e in events if e.kind == "request"]
    assert len(starts) == expect.attempts
    if error is not None:
        assert len(getattr(error, "attempts", ())) == expect.attempts
    if server is not None:
        served = [r for r in server.received if r.method == method and r.path == path]
        assert len(served) == expect.attempts
    # waits: what the engine chose, and that it slept exactly those (none of 0 s)
    waits = [e.retry_delay for e in events if e.kind == "retry"]
    assert len(waits) == len(expect.waits)
    for got, want in zip(waits, expect.waits, strict=True):
        assert got is not None
        if isinstance(want, tuple):
            assert want[0] <= got <= want[1]
        else:
            assert got == pytest.approx(want)
    assert slept == [w for w in waits if w]
    # charts: exactly the expected number, never more than one per call
    created = api.created_count - created_before
    assert created == expect.created
    assert created <= 1
    # the error says whether the server may have acted on the request
    if error is not None:
        assert ("may have processed it" in str(error)) is expect.unknown, str(error)
        if isinstance(error, dw.TransportError):
            assert error.outcome_unknown is expect.unknown
        if isinstance(error, dw.FailedRequestError):
            assert "<html" not in str(error).lower()
            assert error.error and error.status_code >= 400
    if expect.retry_after is not None:
        assert isinstance(error, dw.RateLimitError)
        assert error.retry_after == pytest.approx(expect.retry_after)
    # total time: real elapsed plus the waits that were recorded instead of slept
    assert elapsed + sum(slept) <= time_bound(expect, row.reads)


def render() -> str:
    """The matrix as Markdown (what docs/fault-matrix.md contains)."""
    cells = len(ROWS) * len(METHODS) * len(BACKENDS)
    out = [
        "# Fault matrix",
        "",
        "<!-- Generated by `python -m tests.test_fault_matrix --render > docs/fault-matrix.md`;"
        " tests/test_fault_matrix.py checks that this file is current. -->",
        "",
        f"What the client does when the server misbehaves: {len(ROWS)} faults x "
        f"{len(METHODS)} method classes x {len(BACKENDS)} backends ({', '.join(BACKENDS)}) = "
        f"**{cells} cells**, each checked over real loopback sockets by `tests/test_fault_matrix.py`"
        " against `FakeServer` + `FakeDatawrapperAPI`. **Every backend gives the same result in"
        " every cell**, so the table has one column per method class, not per backend.",
        "",
        "- **GET** reads a chart (`GET /v3/charts/{id}`), **PUT** replaces one"
        " (`PUT /v3/charts/{id}`), **POST** creates one (`POST /v3/charts`, never idempotent).",
        f"- Policy: `max_retries={POLICY.max_retries}` ({POLICY.max_retries + 1} attempts),"
        f" backoff `{POLICY.backoff_factor:g} s * 2^(n-1)` without jitter (waits"
        f" {POLICY.backoff(1, 0):g} s, {POLICY.backoff(2, 0):g} s), `retry_on="
        f"{sorted(POLICY.retry_on)}`, `max_retry_after={POLICY.max_retry_after:g}`.",
        f"- Timeouts: `{TIMEOUT!r}`; a stall is {STALL:g} s, twice the read timeout.",
        "- *once*: the fault hits the first matching request, then the server is healthy;"
        " *always*: every attempt.",
        "- Each cell: result · attempts (client and server agree) · waits chosen between"
        " attempts · for POST, charts the server created · the bound on the total time,"
        " `sum(waits) + attempts * (connect + write + read * reads)`, checked on the recorded"
        " waits plus the real elapsed time.",
        "- *outcome unknown*: the request was sent and the server may have processed it, so"
        " it is not repeated (a `TransportError` also has `outcome_unknown=True`).",
        "",
        "| Fault | Fires | GET | PUT | POST |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        fires = "once" if row.times == ONCE else "always"
        cells_text = " | ".join(row.expect(m).render(m, row.reads) for m in METHODS)
        out.append(f"| {row.fault} | {fires} | {cells_text} |")
    out += [
        "",
        "Reading the table:",
        "",
        "- A 429 is retried for every method, POST included: the server refused the request"
        " without processing it. A `Retry-After` (seconds, fractional seconds, HTTP-date or"
        " `retry-after-ms`) replaces the backoff; a negative value or a past date means no"
        " wait; garbage falls back to the backoff; a wait above `max_retry_after` is not slept"
        " at all, the call raises `RateLimitError` with `.retry_after` at once.",
        "- After a 5xx, a read timeout, a cut-short response or a reset, GET and PUT are"
        " retried; the chart-creating POST is not, because the server may already have"
        " created the chart: at most one chart per call, even when the response is lost.",
        "- A refused connection never reached the server, so it is retried for every method.",
        "- An HTML or plain-text error page is never copied into the exception message; the"
        " status's reason phrase is used instead.",
        "",
    ]
    return "\n".join(out)


def test_fault_matrix_doc_is_current() -> None:
    """docs/fault-matrix.md is exactly the rendering of ROWS (re-render after editing ROWS)."""
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/fault-matrix.md is stale: run python -m tests.test_fault_matrix --render "
        "> docs/fault-matrix.md"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--render"]:
        sys.stdout.write(render())
    else:
        sys.stderr.write("usage: python -m tests.test_fault_matrix --render\n")
        sys.exit(2)
