"""Tests of Datawrapper.map, the client's entry to the concurrent bulk runner."""

from __future__ import annotations

import pytest

import datawrapper as dw
from datawrapper.testing import FakeDatawrapperAPI, FakeServer

TOKEN = "map-test-token-5f2a"


def test_map_creates_in_order_over_the_shared_pool() -> None:
    """client.map returns results in input order and never exceeds the pool's connections."""
    api = FakeDatawrapperAPI(tokens=(TOKEN,))
    with (
        FakeServer(app=api) as server,
        dw.Datawrapper(
            TOKEN,
            base_url=server.url,
            pool=dw.PoolConfig(max_connections=3, max_keepalive_connections=3),
        ) as client,
    ):
        titles = [f"Chart {i}" for i in range(12)]
        results = client.map(lambda t: client.create_chart(t)["title"], titles, max_workers=3)
        assert [r.value for r in results] == titles
        assert api.created_count == 12
        assert server.max_concurrent_connections <= 3


def test_map_collects_errors_per_item() -> None:
    """A failing item keeps its error in its slot; the others still succeed."""
    api = FakeDatawrapperAPI(tokens=(TOKEN,))
    with dw.Datawrapper(TOKEN, transport=dw.MockTransport(api)) as client:
        results = client.map(client.get_chart, ["aaaaa", "bad!", "bbbbb"], max_workers=2)
        assert [type(r.error).__name__ for r in results] == [
            "NotFoundError",
            "InvalidRequestError",
            "NotFoundError",
        ]


def test_map_warns_when_workers_exceed_pool() -> None:
    """More workers than pooled connections gives a PoolSizeWarning."""
    api = FakeDatawrapperAPI(tokens=(TOKEN,))
    with (
        dw.Datawrapper(TOKEN, transport=dw.MockTransport(api)) as client,
        pytest.warns(dw.PoolSizeWarning),
    ):
        client.map(lambda x: x, [1, 2], max_workers=50)
