"""Tests of the concurrent bulk runner (datawrapper._bulk.bulk_map)."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from datawrapper import Datawrapper, InvalidRequestError, MockTransport, PoolConfig, RateLimitError
from datawrapper._bulk import (
    BulkCancelledError,
    BulkError,
    BulkResult,
    PoolSizeWarning,
    bulk_map,
)
from datawrapper.testing import FakeDatawrapperAPI, FakeServer, Fault
from datawrapper.transport import Headers, Request, Response

TOKEN = "test-token"
CSV = "country,value\nA,1\nB,2\n"


class FakeClock:
    """A thread-safe monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)


def json_response(status: int, body: bytes = b"{}", **headers: str) -> Response:
    pairs = [
        ("Content-Type", "application/json"),
        *((k.replace("_", "-"), v) for k, v in headers.items()),
    ]
    return Response(status_code=status, headers=Headers(pairs), content=body)


def mock_client(handler: Any, clock: FakeClock | None = None, **kwargs: Any) -> Datawrapper:
    clock = clock or FakeClock()
    return Datawrapper(
        TOKEN,
        base_url="https://api.example.test",
        transport=MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        random=lambda: 0.0,
        **kwargs,
    )


def fake_api_client(**kwargs: Any) -> tuple[Datawrapper, FakeDatawrapperAPI]:
    api = FakeDatawrapperAPI(tokens=[TOKEN], id_seed=7)
    return mock_client(api, **kwargs), api


# --------------------------------------------------------------------------- order and errors


def test_results_keep_input_order_when_items_finish_in_reverse() -> None:
    """Result i belongs to item i even when the items finish in the reverse order."""
    n = 6
    finished = [threading.Event() for _ in range(n)]
    completion: list[int] = []
    lock = threading.Lock()

    def fn(i: int) -> str:
        if i + 1 < n:
            assert finished[i + 1].wait(5), "the later item never finished"
        with lock:
            completion.append(i)
        finished[i].set()
        return f"value-{i}"

    client, _ = fake_api_client()
    result = bulk_map(client, fn, range(n), max_workers=n)

    assert completion == list(reversed(range(n)))
    assert [r.value for r in result] == [f"value-{i}" for i in range(n)]
    assert [r.index for r in result] == list(range(n))
    assert [r.item for r in result] == list(range(n))
    assert result.ok and result.values() == [f"value-{i}" for i in range(n)]


def test_per_item_errors_are_collected_and_the_batch_goes_on() -> None:
    """Items that raise get their error in their result while the other items succeed."""
    client, api = fake_api_client()
    created = [client.create_chart(f"chart {i}")["id"] for i in range(3)]
    ids = [created[0], "bad!", created[1], "nope", created[2]]

    result = bulk_map(client, client.get_chart, ids, max_workers=3)

    assert [r.ok for r in result] == [True, False, True, False, True]
    assert [r.index for r in result.failed] == [1, 3]
    assert all(isinstance(e, InvalidRequestError) for e in result.errors)
    assert [r.value["id"] for r in result.succeeded] == created  # type: ignore[index]
    with pytest.raises(BulkError) as info:
        result.values()
    assert info.value.result is result
    assert isinstance(info.value.__cause__, InvalidRequestError)
    assert "2 of 5 items failed" in str(info.value)
    assert "2 failed" in repr(result)
    with pytest.raises(InvalidRequestError):
        result[1].unwrap()
    assert api.created_count == 3


def test_return_exceptions_false_stops_after_first_failure_and_keeps_successes() -> None:
    """With return_exceptions=False no new item starts after a failure and BulkError lists the rest."""
    client, api = fake_api_client()
    calls: list[int] = []

    def fn(i: int) -> dict[str, Any]:
        calls.append(i)
        if i == 1:
            raise ValueError("bad row")
        return client.create_chart(f"chart {i}")

    with pytest.raises(BulkError) as info:
        bulk_map(client, fn, range(4), max_workers=1, return_exceptions=False)

    result = info.value.result
    assert calls == [0, 1]
    assert [r.index for r in result.succeeded] == [0]
    assert [r.index for r in result.cancelled] == [2, 3]
    assert all(isinstance(r.error, BulkCancelledError) for r in result.cancelled)
    assert isinstance(info.value.__cause__, ValueError)
    assert "1 of 4 items failed" in str(info.value) and "2 not started" in str(info.value)
    assert api.created_count == 1


def test_an_error_while_iterating_items_is_reraised() -> None:
    """An exception from the caller's iterable stops the batch and reaches the caller."""
    client, _ = fake_api_client()

    def items() -> Iterator[int]:
        yield 1
        raise KeyError("broken source")

    with pytest.raises(KeyError, match="broken source"):
        bulk_map(client, lambda i: i, items(), max_workers=2)


# --------------------------------------------------------------------------- 429: shared backoff


def test_a_429_retry_pauses_every_worker_until_retry_after_has_passed() -> None:
    """After one worker gets a 429 asking for 0.3 s, no worker sends anything more before then."""
    workers = 4
    first_wave = threading.Barrier(workers, timeout=5)
    pause_seen = threading.Event()
    lock = threading.Lock()
    sent: list[float] = []  # monotonic time of every request the server got, in order
    refused_at: list[float] = []

    def handler(request: Request) -> Response:
        with lock:
            sent.append(time.monotonic())
            first = len(sent) <= workers
            refuse = first and not refused_at
            if refuse:
                refused_at.append(0.0)
        if first:
            first_wave.wait()  # the whole first wave is in flight before anyone answers
            if refuse:
                refused_at[0] = time.monotonic()
                return json_response(429, b'{"statusCode":429}', Retry_After="0.3")
            # answer only once the 429 has been turned into a pause, so nothing can race it
            assert pause_seen.wait(5), "the 429 retry was never reported"
        return json_response(200, b'{"id":"abcde"}')

    def watch(event: Any) -> None:
        if event.kind == "retry":
            pause_seen.set()

    client = Datawrapper(
        TOKEN, base_url="https://api.example.test", transport=MockTransport(handler), hooks=[watch]
    )

    def two_calls(chart_id: str) -> list[dict[str, Any]]:
        # the second call of an item already in flight must wait for the pause too
        return [client.get_chart(chart_id), client.get_chart(chart_id)]

    items = [f"ch{i:03d}" for i in range(6)]
    result = bulk_map(client, two_calls, items, max_workers=workers)

    assert result.ok, result.errors
    assert len(sent) == 2 * len(items) + 1  # one retry
    # sleeps never end early, so this lower bound is exact: nothing left during the pause
    assert all(t >= refused_at[0] + 0.3 for t in sent[workers:])
    assert result.pauses == 1 and result.paused_seconds == pytest.approx(0.3)
    assert client.hooks == (watch,)  # the runner's hook is gone after the batch


def test_a_final_429_within_max_pause_pauses_the_rest_of_the_batch() -> None:
    """When an item fails with a 429 asking for 2 s, the next items start only after 2 s."""
    clock = FakeClock()
    sent: list[float] = []

    def handler(request: Request) -> Response:
        sent.append(clock())
        if len(sent) == 1:
            return json_response(429, b"{}", Retry_After="2")
        return json_response(200, b'{"id":"abcde"}')

    client = mock_client(handler, clock, max_retries=0)
    result = bulk_map(client, client.get_chart, ["aaaaa", "bbbbb", "ccccc"], max_workers=1)

    assert isinstance(result[0].error, RateLimitError)
    assert [r.ok for r in result] == [False, True, True]
    assert sent[0] == 0 and all(t >= 2 for t in sent[1:])
    assert result.pauses == 1


def test_a_final_429_with_a_long_retry_after_cancels_the_items_not_started() -> None:
    """A 429 asking for an hour stops the batch: the other items are never sent."""
    clock = FakeClock()
    sent: list[str] = []

    def handler(request: Request) -> Response:
        sent.append(request.path)
        return json_response(429, b"{}", Retry_After="3600")

    client = mock_client(handler, clock)
    result = bulk_map(client, client.get_chart, ["aaaaa", "bbbbb", "ccccc"], max_workers=1)

    assert sent == ["/v3/charts/aaaaa"]  # max_retry_after (60 s) < 3600 s: no retry either
    assert isinstance(result[0].error, RateLimitError)
    assert [r.index for r in result.cancelled] == [1, 2]
    assert "429" in str(result[1].error)
    assert clock.sleeps == []  # nobody waited an hour


def test_shared_backoff_over_real_sockets_with_a_scripted_429() -> None:
    """Against the fake server, a 429 with retry-after-ms mid-batch is waited out and every chart is made once."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    with FakeServer(api) as server:
        server.faults.add(
            Fault.rate_limited("40", header="retry-after-ms"), method="POST", path="^/v3/charts$"
        )
        with Datawrapper(TOKEN, base_url=server.url) as client:
            result = bulk_map(client, lambda i: client.create_chart(f"c{i}", data=CSV), range(8))

    assert result.ok, result.errors
    assert api.created_count == 8
    posts = [r for r in server.received if r.method == "POST"]
    assert len(posts) == 9  # 8 creations + the one refused with 429
    assert result.pauses >= 1


# --------------------------------------------------------------------------- pool sizing


def test_more_workers_than_pool_connections_warns_and_the_pool_bound_holds() -> None:
    """Six workers on a pool of two warn, and the server never sees more than two connections."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    with FakeServer(api, rtt=0.01) as server:
        pool = PoolConfig(max_connections=2, max_keepalive_connections=2)
        with Datawrapper(TOKEN, base_url=server.url, pool=pool) as client:
            with pytest.warns(PoolSizeWarning, match="max_workers=6"):
                result = bulk_map(
                    client, lambda i: client.create_chart(f"c{i}"), range(12), max_workers=6
                )
            assert result.ok, result.errors
            assert server.max_concurrent_connections == 2
    assert api.created_count == 12


def test_default_worker_count_follows_the_pool_and_does_not_warn() -> None:
    """Without max_workers the runner uses min(8, max_connections) threads and emits no warning."""
    api = FakeDatawrapperAPI(tokens=[TOKEN])
    with FakeServer(api) as server:
        pool = PoolConfig(max_connections=3, max_keepalive_connections=3)
        with (
            Datawrapper(TOKEN, base_url=server.url, pool=pool) as client,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("error")
            result = bulk_map(client, lambda i: client.create_chart(f"c{i}"), range(5))
    assert result.max_workers == 3
    assert result.ok


# --------------------------------------------------------------------------- progress and input


def test_progress_callback_sees_every_item() -> None:
    """A progress callable is called once per item with a growing count and the total."""
    client, _ = fake_api_client()
    seen: list[tuple[int, int | None]] = []
    bulk_map(client, lambda i: i * 2, [1, 2, 3], progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_progress_true_draws_a_tqdm_bar(capsys: pytest.CaptureFixture[str]) -> None:
    """progress=True shows a tqdm bar that reaches the number of items."""
    pytest.importorskip("tqdm")
    client, _ = fake_api_client()
    result = bulk_map(client, lambda i: i, range(4), progress=True)
    assert result.values() == [0, 1, 2, 3]
    assert "4/4" in capsys.readouterr().err


def test_bad_arguments_are_rejected_with_a_clear_message() -> None:
    """Bad fn, items and max_workers raise errors that name the argument."""
    client, _ = fake_api_client()
    with pytest.raises(ValueError, match="max_workers"):
        bulk_map(client, lambda i: i, [1], max_workers=0)
    with pytest.raises(TypeError, match="fn must be a callable"):
        bulk_map(client, "nope", [1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a str"):
        bulk_map(client, lambda i: i, "abc")
    with pytest.raises(ValueError, match="max_pause"):
        bulk_map(client, lambda i: i, [1], max_pause=-1)


def test_client_map_runs_the_bulk_runner_on_that_client() -> None:
    """client.map returns a BulkResult in input order and creates each chart once."""
    client, api = fake_api_client()
    result = client.map(lambda t: client.create_chart(t, data=CSV)["title"], ["a", "b", "c"])
    assert isinstance(result, BulkResult)
    assert result.values() == ["a", "b", "c"]
    assert api.created_count == 3


def test_an_empty_batch_returns_an_empty_result() -> None:
    """No items give an empty, successful result."""
    client, _ = fake_api_client()
    result = bulk_map(client, lambda i: i, [])
    assert isinstance(result, BulkResult)
    assert len(result) == 0 and result.ok and result.values() == []
