"""The client over real sockets on every backend, against the fake API on a loopback FakeServer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import datawrapper as dw
from datawrapper import (
    Datawrapper,
    NotFoundError,
    PartialFailureError,
    ReadTimeout,
    ServerError,
    Timeout,
)
from datawrapper.testing import FakeDatawrapperAPI, FakeServer, Fault
from datawrapper.transport import Request, Response

BACKENDS = ["requests", "httpx", "urllib3"]


def no_sleep(seconds: float) -> None:
    """A sleep that returns at once (retries never wait in these tests)."""


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "httpx":
        pytest.importorskip("httpx")
    return name


@pytest.fixture
def api() -> FakeDatawrapperAPI:
    return FakeDatawrapperAPI(id_seed=11)


@pytest.fixture
def server(api: FakeDatawrapperAPI) -> Iterator[FakeServer]:
    with FakeServer(app=api) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_default_client() -> Iterator[None]:
    dw.set_default_client(None)
    yield
    dw.set_default_client(None)


def make_client(server: FakeServer, backend: str, **kwargs: Any) -> Datawrapper:
    """A client of ``server`` over ``backend`` whose retries never sleep."""
    return Datawrapper(
        "test-token", base_url=server.url, transport=backend, sleep=no_sleep, **kwargs
    )


def test_chart_workflow_over_one_connection(
    server: FakeServer, api: FakeDatawrapperAPI, backend: str
) -> None:
    """A whole chart workflow works over real sockets and reuses one keep-alive connection."""
    with make_client(server, backend) as client:
        folder = client.create_folder("Sockets")
        chart = client.create_chart(
            "Over the wire", "d3-bars", data=[{"x": "ä", "y": 1}], folder_id=folder["id"],
            forkable=True,
        )  # fmt: skip
        chart_id = chart["id"]
        assert client.get_chart(chart_id)["folderId"] == folder["id"]
        assert client.update_chart(chart_id, title="Renamed")["title"] == "Renamed"
        client.update_description(chart_id, intro="Intro", hide_title=False)
        assert client.get_data(chart_id) == "x,y\nä,1\n"
        published = client.publish_chart(chart_id)
        assert published["version"] == 1
        png = client.export_png(chart_id, width=300, plain=True, border_width=0)
        assert png.startswith(b"\x89PNG")
        assert client.export_chart(chart_id, "pdf", unit="mm").startswith(b"%PDF")
        assert client.get_iframe_code(chart_id).startswith("<iframe")
        assert client.refresh_data(chart_id) is True
        assert client.unpublish_chart(chart_id) is True
        copy = client.copy_chart(chart_id)
        charts = client.get_charts(folder_id=folder["id"])
        assert sorted(c["id"] for c in charts) == sorted([chart_id, copy["id"]])
        assert charts["total"] == 2
        assert client.get_my_account()["id"] == 1
        assert client.delete_chart(chart_id) is True
        with pytest.raises(NotFoundError):
            client.get_chart(chart_id)
    assert server.connections_opened == 1
    received = server.received
    export = next(r for r in received if "/export/png" in r.path)
    assert sorted(export.query.split("&")) == ["borderWidth=0", "plain=true", "width=300"]
    create = next(r for r in received if r.method == "POST" and r.path == "/v3/charts")
    assert json.loads(create.body)["forkable"] is True
    for post in (r for r in received if r.method == "POST" and r.path.endswith("/publish")):
        assert post.header("content-type") is None
        assert post.body == b""


def test_tls_with_the_fake_ca(api: FakeDatawrapperAPI, backend: str) -> None:
    """Over HTTPS with verify= pointing at the fake server's CA, calls work on one connection."""
    with FakeServer(app=api, tls=True) as server:
        client = make_client(server, backend, verify=server.ca_path)
        with client:
            chart_id = client.create_chart("TLS", data="a\n1\n")["id"]
            assert client.get_data(chart_id) == "a\n1\n"
        assert server.connections_opened == 1


def test_seed_loop_creates_100_charts_over_one_connection(
    server: FakeServer, api: FakeDatawrapperAPI, backend: str
) -> None:
    """The seed's loop of 100 BarChart.create() calls opens exactly one connection."""
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"country": ["Malta", "Belgium", "Austria"], "turnout": [72.7, 88.5, 75.6]})
    dw.set_default_client(make_client(server, backend))
    for i in range(100):
        dw.BarChart(title=f"Chart {i}", data=df).create()
    assert server.connections_opened == 1
    assert server.requests_received == 200
    assert api.created_count == 100
    assert sorted(c["title"] for c in api.charts.values()) == sorted(
        f"Chart {i}" for i in range(100)
    )
    assert {content for content, _ in api.chart_data.values()} == {
        b"country,turnout\nMalta,72.7\nBelgium,88.5\nAustria,75.6\n"
    }
    dw.get_default_client().close()


def test_upload_failure_reports_the_chart_and_creates_one(
    server: FakeServer, api: FakeDatawrapperAPI, backend: str
) -> None:
    """A data upload failing after retries raises PartialFailureError; one chart exists."""
    server.faults.add(Fault.status(503), method="PUT", path=r"/data$", times=3)
    with (
        make_client(server, backend, max_retries=2) as client,
        pytest.raises(PartialFailureError) as info,
    ):
        dw.LineChart(title="half", data="a\n1\n", client=client).create()
    assert isinstance(info.value.__cause__, ServerError)
    assert list(api.charts) == [info.value.chart_id]
    posts = [r for r in server.received if r.method == "POST"]
    puts = [r for r in server.received if r.method == "PUT"]
    assert (len(posts), len(puts)) == (1, 3)


def test_response_without_content_type(backend: str) -> None:
    """A real 200 without Content-Type is decoded instead of crashing (community trap)."""

    def app(request: Request) -> Response:
        return Response(200, {}, b'{"id": 5, "email": "x@example.org"}')

    with FakeServer(app=app) as server, make_client(server, backend) as client:
        assert client.get_my_account() == {"id": 5, "email": "x@example.org"}
        assert client.refresh_data("abcde") == {"id": 5, "email": "x@example.org"}


def test_export_times_out_with_its_own_limit(
    server: FakeServer, api: FakeDatawrapperAPI, backend: str
) -> None:
    """A slow export fails with the export kind's read limit while a read waits longer."""
    server.faults.add(Fault.delay(0.3), path=r"/export/")
    server.faults.add(Fault.delay(0.3), method="GET", path=r"^/v3/me$")
    timeouts = {"export": Timeout(5, read=0.1)}
    with make_client(server, backend, timeouts=timeouts, max_retries=0) as client:
        chart_id = client.create_chart("slow")["id"]
        with pytest.raises(ReadTimeout):
            client.export_png(chart_id)
        assert client.get_my_account()["id"] == 1
