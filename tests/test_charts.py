"""Tests of chart objects (dw.Chart, dw.BarChart ...) and the process-wide default client."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

import datawrapper as dw
import datawrapper._charts as charts_module
from datawrapper import (
    Datawrapper,
    InvalidRequestError,
    MissingTokenError,
    MockTransport,
    PartialFailureError,
    ServerError,
)
from datawrapper._charts import deep_merge
from datawrapper.testing import FakeDatawrapperAPI, Fault, FaultScript, in_process_transport

BASE = "https://api.datawrapper.de"
SAMPLES = Path(
    os.environ.get("DATAWRAPPER_PEER_SAMPLES", str(Path(__file__).parent / "data" / "peer-samples"))
)
SAMPLE_CHARTS = sorted(SAMPLES.glob("*/*.json"))


def no_sleep(seconds: float) -> None:
    """A sleep that returns at once."""


@pytest.fixture(autouse=True)
def fresh_default_client() -> Iterator[None]:
    """Each test starts and ends without a default client."""
    dw.set_default_client(None)
    yield
    dw.set_default_client(None)


@pytest.fixture
def api() -> FakeDatawrapperAPI:
    return FakeDatawrapperAPI(id_seed=3)


@pytest.fixture
def client(api: FakeDatawrapperAPI) -> Datawrapper:
    return Datawrapper("test-token", base_url=BASE, transport=MockTransport(api), sleep=no_sleep)


# --------------------------------------------------------------------------- construction


def test_seed_example_creates_a_bar_chart_with_data(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """dw.BarChart(title=..., data=df).create() creates a d3-bars chart and uploads its data."""
    pd = pytest.importorskip("pandas")
    dw.set_default_client(client)
    df = pd.DataFrame({"country": ["Malta", "Belgium"], "turnout": [72.7, 88.5]})
    chart = dw.BarChart(title="Turnout", data=df)
    chart_id = chart.create()
    assert chart.chart_id == chart_id
    stored = api.charts[chart_id]
    assert (stored["type"], stored["title"]) == ("d3-bars", "Turnout")
    assert api.chart_data[chart_id] == (b"country,turnout\nMalta,72.7\nBelgium,88.5\n", "text/csv")
    assert chart.properties["id"] == chart_id


def test_constructor_is_keyword_only_and_validates() -> None:
    """Positional arguments and wrong types are refused with a clear error."""
    with pytest.raises(TypeError):
        dw.BarChart("Title")  # type: ignore[misc]
    with pytest.raises(InvalidRequestError, match="title must be a string"):
        dw.BarChart(title=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="metadata must be a dict"):
        dw.BarChart(metadata=[1])  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="forkable"):
        dw.BarChart(forkable="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="folder_id"):
        dw.BarChart(folder_id="reports")
    with pytest.raises(InvalidRequestError, match="chart id"):
        dw.BarChart(chart_id="nope")
    with pytest.raises(TypeError, match="Datawrapper"):
        dw.BarChart(client=object())  # type: ignore[arg-type]


def test_chart_types_are_fixed_per_class() -> None:
    """Each class has its type; the base Chart needs chart_type=; a conflicting one is refused."""
    expected = {
        dw.BarChart: "d3-bars",
        dw.StackedBarChart: "d3-bars-stacked",
        dw.ColumnChart: "column-chart",
        dw.GroupedColumnChart: "grouped-column-chart",
        dw.StackedColumnChart: "stacked-column-chart",
        dw.MultipleColumnChart: "multiple-columns",
        dw.LineChart: "d3-lines",
        dw.AreaChart: "d3-area",
        dw.ScatterPlot: "d3-scatter-plot",
        dw.ArrowPlot: "d3-arrow-plot",
        dw.PieChart: "d3-pies",
        dw.DonutChart: "d3-donuts",
        dw.Table: "tables",
    }
    for cls, chart_type in expected.items():
        assert cls().type == chart_type
        assert dw.chart_class_for(chart_type) is cls
        assert dw.CHART_CLASSES[chart_type] is cls
    assert dw.Chart(chart_type="d3-maps-choropleth").type == "d3-maps-choropleth"
    assert dw.chart_class_for("something-new") is dw.Chart
    with pytest.raises(InvalidRequestError, match="chart_type="):
        dw.Chart(title="no type")
    with pytest.raises(InvalidRequestError, match=r"always a 'd3-bars' chart.*dw\.LineChart"):
        dw.BarChart(chart_type="d3-lines")


def test_metadata_is_deep_merged_and_shortcuts_live_in_it() -> None:
    """metadata= merges over class defaults; intro, byline ... read and write metadata."""

    class ThickBars(dw.BarChart):
        default_metadata: ClassVar[Mapping[str, Any]] = {
            "visualize": {"thick": True, "colors": {"a": "#000"}}
        }

    chart = ThickBars(
        metadata={"visualize": {"colors": {"b": "#fff"}}, "describe": {"intro": "from dict"}},
        byline="Me",
        source_name="Eurostat",
        notes="Note",
    )
    assert chart.metadata["visualize"] == {"thick": True, "colors": {"a": "#000", "b": "#fff"}}
    assert chart.metadata["describe"] == {
        "intro": "from dict",
        "byline": "Me",
        "source-name": "Eurostat",
    }
    assert chart.metadata["annotate"] == {"notes": "Note"}
    assert chart.intro == "from dict"
    chart.intro = None
    chart.source_url = "https://example.org"
    assert "intro" not in chart.metadata["describe"]
    assert chart.metadata["describe"]["source-url"] == "https://example.org"
    chart.merge_metadata({"visualize": {"thick": False}})
    assert chart.metadata["visualize"]["thick"] is False
    assert ThickBars.default_metadata["visualize"]["thick"] is True
    with pytest.raises(InvalidRequestError, match="intro must be a string"):
        chart.intro = 3  # type: ignore[assignment]


def test_deep_merge_leaves_its_inputs_alone() -> None:
    """deep_merge returns a new dict; nested dicts merge, other values replace."""
    base = {"a": {"b": 1, "c": [1]}, "d": 1}
    patch = {"a": {"c": [2], "e": {"f": 1}}, "d": {"x": 1}}
    assert deep_merge(base, patch) == {"a": {"b": 1, "c": [2], "e": {"f": 1}}, "d": {"x": 1}}
    assert base == {"a": {"b": 1, "c": [1]}, "d": 1}


def test_serialize_model_and_repr() -> None:
    """serialize_model is the creation body; repr describes the data, never dumps it."""
    chart = dw.LineChart(
        title="Lines", theme="datawrapper", language="en-GB", folder_id="12", forkable=False,
        data={"x": [1, 2]},
    )  # fmt: skip
    assert chart.serialize_model() == {
        "title": "Lines",
        "type": "d3-lines",
        "theme": "datawrapper",
        "language": "en-GB",
        "folderId": 12,
        "forkable": False,
        "metadata": {},
    }
    assert repr(chart) == ("<LineChart type='d3-lines' chart_id=None title='Lines' data=1 columns>")


# --------------------------------------------------------------------------- API calls


def test_full_life_cycle(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """create, update, publish, export, display URLs, embed code, unpublish and delete."""
    chart = dw.ColumnChart(title="Cols", data="a,b\n1,2\n", intro="Hi", client=client)
    chart_id = chart.create()
    assert api.charts[chart_id]["metadata"]["describe"]["intro"] == "Hi"
    chart.title = "Columns"
    chart.data = [{"a": 3, "b": 4}]
    chart.merge_metadata({"visualize": {"sort": True}})
    assert chart.update() == chart_id
    stored = api.charts[chart_id]
    assert stored["title"] == "Columns"
    assert stored["metadata"]["visualize"]["sort"] is True
    assert api.chart_data[chart_id][0] == b"a,b\n3,4\n"
    result = chart.publish()
    assert chart.public_url == result["url"] == f"https://datawrapper.dwcdn.net/{chart_id}/1/"
    assert chart.properties["publicVersion"] == 1
    assert chart.export().startswith(b"\x89PNG")
    assert chart.export("svg", width=200, plain=True).startswith(b"<?xml")
    assert chart.export_png(zoom=1).startswith(b"\x89PNG")
    assert chart.export_pdf().startswith(b"%PDF")
    assert b"Columns" in chart.export_svg()
    assert chart.get_display_urls()[0]["id"] == "default"
    assert chart.get_iframe_code(responsive=True).startswith("<iframe")
    assert chart.unpublish() is True
    assert chart.public_url is None
    assert chart.delete() is True
    assert chart.chart_id is None
    assert api.charts[chart_id]["deleted"] is True


def test_calls_before_create_and_double_create_are_refused(client: Datawrapper) -> None:
    """Methods that need a chart say to create() first; create() twice is refused."""
    chart = dw.BarChart(title="x", client=client)
    for action in (chart.update, chart.publish, chart.unpublish, chart.delete, chart.export):
        with pytest.raises(InvalidRequestError, match=r"call create\(\) first"):
            action()
    chart.create()
    with pytest.raises(InvalidRequestError, match="already stands for chart"):
        chart.create()


def test_create_with_bad_data_sends_nothing(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Data that cannot become CSV stops create() before any chart exists."""
    with pytest.raises(InvalidRequestError, match="cannot turn"):
        dw.BarChart(title="x", data=object(), client=client).create()
    assert api.charts == {}


def test_create_upload_failure_keeps_the_chart_id(api: FakeDatawrapperAPI) -> None:
    """If the upload fails after retries, PartialFailureError names the chart, and so does the object."""
    faults = FaultScript()
    faults.add(Fault.status(500), method="PUT", times=2)
    client = Datawrapper(
        "test-token",
        base_url=BASE,
        transport=in_process_transport(api, faults, sleep=no_sleep),
        max_retries=1,
        sleep=no_sleep,
    )
    chart = dw.BarChart(title="x", data="a\n1\n", client=client)
    with pytest.raises(PartialFailureError) as info:
        chart.create()
    assert isinstance(info.value.__cause__, ServerError)
    assert chart.chart_id == info.value.chart_id
    assert chart.chart_id in api.charts
    assert api.created_count == 1
    chart.update()  # the script is spent: the retry of the upload now succeeds
    assert api.chart_data[chart.chart_id][0] == b"a\n1\n"


def test_duplicate_and_fork_return_new_objects(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """duplicate() and fork() return new objects of the same class for the new charts."""
    chart = dw.AreaChart(title="Area", data="x\n1\n", client=client)
    chart.create()
    copy = chart.duplicate()
    fork = chart.fork()
    assert type(copy) is dw.AreaChart and type(fork) is dw.AreaChart
    assert len({chart.chart_id, copy.chart_id, fork.chart_id}) == 3
    assert copy.title == "Area (Copy)"
    assert copy.data == "x\n1\n"
    assert api.copies_count == 2


def test_get_loads_properties_and_data(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Chart.get picks the class from the type; a subclass refuses another type."""
    line = dw.LineChart(
        title="Temps", data="year\ttemp\n2000\t1.5\n", language="de-DE", folder_id=None,
        metadata={"visualize": {"interpolation": "linear"}}, client=client,
    )  # fmt: skip
    chart_id = line.create()
    loaded = dw.Chart.get(chart_id, client=client)
    assert type(loaded) is dw.LineChart
    assert (loaded.chart_id, loaded.title, loaded.language) == (chart_id, "Temps", "de-DE")
    assert loaded.metadata["visualize"]["interpolation"] == "linear"
    assert loaded.data == "year\ttemp\n2000\t1.5\n"
    assert loaded.client is client
    assert type(dw.get_chart(chart_id, client=client)) is dw.LineChart
    assert dw.LineChart.get(chart_id, client=client).title == "Temps"
    with pytest.raises(InvalidRequestError, match=r"is a 'd3-lines' chart.*dw\.LineChart"):
        dw.BarChart.get(chart_id, client=client)
    unknown = client.create_chart("Map", "d3-maps-symbols")
    loaded_map = dw.Chart.get(unknown["id"], client=client)
    assert type(loaded_map) is dw.SymbolMap


def test_get_as_dataframe(client: Datawrapper) -> None:
    """Chart.get(as_dataframe=True) gives the data as a DataFrame."""
    pd = pytest.importorskip("pandas")
    chart_id = dw.ScatterPlot(title="s", data="x,y\n1,2\n", client=client).create()
    loaded = dw.ScatterPlot.get(chart_id, client=client, as_dataframe=True)
    assert isinstance(loaded.data, pd.DataFrame)
    assert loaded.data.to_dict("list") == {"x": [1], "y": [2]}


def test_get_with_a_type_without_class_keeps_the_type(client: Datawrapper) -> None:
    """A chart of a type without its own class loads as a generic Chart of that type."""
    api_chart = client.create_chart("Dots", "d3-dot-plot")
    loaded = dw.get_chart(api_chart["id"], client=client)
    assert type(loaded) is dw.DotPlot
    charts_module.CHART_CLASSES.pop("d3-dot-plot")
    try:
        generic = dw.get_chart(api_chart["id"], client=client)
        assert type(generic) is dw.Chart
        assert generic.type == "d3-dot-plot"
    finally:
        charts_module.CHART_CLASSES["d3-dot-plot"] = dw.DotPlot


# --------------------------------------------------------------------------- the default client


def test_default_client_is_built_once_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Concurrent first uses build exactly one default client, from the environment."""
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", "env-token")
    monkeypatch.setenv("DATAWRAPPER_BASE_URL", "https://example.test/v3")
    built: list[Datawrapper] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait(timeout=5)
        built.append(dw.get_default_client())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(built) == 8
    assert len({id(c) for c in built}) == 1
    assert built[0].base_url == "https://example.test/v3"
    assert built[0].has_token


def test_missing_token_caches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a token the default client is not built and the error says how to fix it."""
    monkeypatch.delenv("DATAWRAPPER_ACCESS_TOKEN", raising=False)
    with pytest.raises(MissingTokenError, match="set_default_client"):
        dw.BarChart(title="x").create()
    assert charts_module._default_client is None
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", "now-set")
    assert dw.get_default_client().has_token


def test_set_default_client_ownership(monkeypatch: pytest.MonkeyPatch, client: Datawrapper) -> None:
    """Replacing a default this module built closes it; a client you installed stays open."""
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", "env-token")
    built = dw.get_default_client()
    dw.set_default_client(client)
    assert dw.get_default_client() is client
    assert built._closed
    dw.set_default_client(None)
    assert not client._closed
    with pytest.raises(TypeError, match="Datawrapper"):
        dw.set_default_client("token")  # type: ignore[arg-type]


def test_charts_use_the_default_unless_given_a_client(api: FakeDatawrapperAPI) -> None:
    """Without client= charts use the default; a client passed to a method is kept by the chart."""
    default_transport = MockTransport(api)
    other_transport = MockTransport(api)
    default = Datawrapper("test-token", base_url=BASE, transport=default_transport)
    other = Datawrapper("test-token", base_url=BASE, transport=other_transport)
    dw.set_default_client(default)
    first = dw.PieChart(title="pie")
    first.create()
    assert first.client is None
    second = dw.DonutChart(title="donut")
    second.create(client=other)
    second.publish()
    assert second.client is other
    assert len(default_transport.requests) == 1
    assert len(other_transport.requests) == 2


def test_create_with_access_token_binds_its_own_client(
    api: FakeDatawrapperAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create(access_token) (the community signature) builds one client kept by the chart."""
    from datawrapper.testing import FakeServer

    monkeypatch.delenv("DATAWRAPPER_ACCESS_TOKEN", raising=False)
    with FakeServer(app=api) as server:
        monkeypatch.setenv("DATAWRAPPER_BASE_URL", server.url)
        chart = dw.Table(title="table", data="a\n1\n")
        chart_id = chart.create("test-token")
        assert chart.client is not None and chart.client.has_token
        chart.publish()
        loaded = dw.Table.get(chart_id, access_token="test-token")
        assert loaded.data == "a\n1\n"
        assert loaded.client is not None and loaded.client is not chart.client
        chart.client.close()
        loaded.client.close()
    assert api.charts[chart_id]["publicVersion"] == 1
    assert charts_module._default_client is None


# --------------------------------------------------------------------------- peer samples


def sample_ids() -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in SAMPLE_CHARTS]


def subset(expected: Any, actual: Any) -> bool:
    """Whether every key and value of ``expected`` is in ``actual`` (recursively)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)


@pytest.mark.skipif(not SAMPLE_CHARTS, reason="peer samples not found")
@pytest.mark.parametrize("path", SAMPLE_CHARTS, ids=sample_ids())
def test_peer_sample_round_trips(path: Path, client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """A real chart's type, title and metadata survive create/get, and its data bytes are unchanged."""
    sample = json.loads(path.read_text(encoding="utf-8"))["chart"]["crdt"]["data"]
    csv_path = path.with_suffix(".csv")
    data = csv_path.read_bytes() if csv_path.exists() else None
    cls = dw.chart_class_for(sample["type"])
    assert cls is not dw.Chart
    chart = cls(
        title=sample["title"],
        metadata=sample["metadata"],
        theme=sample["theme"],
        language=sample["language"],
        data=data,
        client=client,
    )
    chart_id = chart.create()
    sent = json.loads(next(r for r in api.log if r.method == "POST").body)
    assert sent["metadata"] == sample["metadata"]
    if data is not None:
        assert api.chart_data[chart_id][0] == data
    loaded = dw.Chart.get(chart_id, client=client)
    assert type(loaded) is cls
    assert (loaded.type, loaded.title) == (sample["type"], sample["title"])
    assert subset(sample["metadata"], loaded.metadata)
    if data is not None:
        assert loaded.data.encode("utf-8") == data
        loaded.update()
        assert api.chart_data[chart_id][0] == data


# --------------------------------------------------------------------------- deadlines


class StepClock:
    """A fake monotonic clock that each request moves forward by ``step`` seconds."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        return self.now


def clocked_client(api: FakeDatawrapperAPI, step: float) -> tuple[Datawrapper, MockTransport]:
    """A client on a fake clock where every request takes ``step`` seconds."""
    clock = StepClock(step)

    def slow_api(request: dw.Request) -> dw.Response:
        clock.now += clock.step
        return api(request)

    transport = MockTransport(slow_api)
    client = Datawrapper(
        "test-token", base_url=BASE, transport=transport, sleep=no_sleep, clock=clock
    )
    return client, transport


def test_chart_methods_forward_the_deadline(api: FakeDatawrapperAPI) -> None:
    """create/publish/export/delete pass deadline= on: each request is capped to its time."""
    client, transport = clocked_client(api, 0.0)
    chart = dw.BarChart(title="T", client=client)
    chart.create(deadline=7)
    chart.publish(deadline=6)
    chart.export("png", deadline=5)
    chart.delete(deadline=4)
    assert [t.total for t in transport.timeouts] == [7.0, 6.0, 5.0, 4.0]


def test_chart_get_spends_one_deadline_on_both_gets(api: FakeDatawrapperAPI) -> None:
    """Chart.get(deadline=1) gives the data GET only what the properties GET left."""
    client, _ = clocked_client(api, 0.0)
    chart_id = client.create_chart("Temps", "d3-lines", data="a\n1\n")["id"]
    slow, slow_transport = clocked_client(api, 0.7)
    dw.Chart.get(chart_id, client=slow, deadline=1.0)
    assert [t.total for t in slow_transport.timeouts] == [1.0, pytest.approx(0.3)]
    too_slow, too_slow_transport = clocked_client(api, 1.2)
    with pytest.raises(dw.DeadlineExceeded, match="loading the chart's data"):
        dw.Chart.get(chart_id, client=too_slow, deadline=1.0)
    assert len(too_slow_transport.requests) == 1
