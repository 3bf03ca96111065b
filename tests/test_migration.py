"""Code written for the community client (chekos/Datawrapper) runs unchanged on this client.

The functions below are written exactly as a user of the community client writes them (token
and base URL from the environment, community method names, positional and keyword arguments,
``["list"]`` on listings). They run against the fake API on a loopback server; the asserts
check that they get the community's results, and that the only differences are the ones
listed in docs/migration.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import datawrapper as dw
from datawrapper.testing import FakeDatawrapperAPI, FakeServer

DEPRECATED_ALIASES = {"chart_properties", "chart_data", "account_info", "update_metadata"}


@pytest.fixture
def api() -> FakeDatawrapperAPI:
    return FakeDatawrapperAPI(id_seed=5)


@pytest.fixture
def community_env(api: FakeDatawrapperAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment a community-client script runs in: a token, and here a fake API URL."""
    with FakeServer(app=api) as server:
        monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", "test-token")
        monkeypatch.setenv("DATAWRAPPER_BASE_URL", server.url)
        dw.set_default_client(None)
        yield
        dw.set_default_client(None)


# --------------------------------------------------------------------------- community code


def community_client_script(workdir: Path) -> dict[str, Any]:
    """A typical script for the community client, unchanged."""
    import pandas as pd

    from datawrapper import Datawrapper

    dw = Datawrapper()  # the community client reads DATAWRAPPER_ACCESS_TOKEN too

    df = pd.DataFrame({"Country": ["Belgium", "Malta", "Austria"], "Turnout": [88.5, 72.7, 75.6]})
    chart_info = dw.create_chart(title="Where do people vote?", chart_type="d3-bars", data=df)
    chart_id = chart_info["id"]

    dw.update_description(
        chart_id,
        source_name="European Parliament",
        source_url="https://europarl.europa.eu",
        intro="Turnout in the 2019 election",
        byline="Data desk",
    )
    dw.update_chart(chart_id, title="Where do people vote most?", language="en-GB")
    dw.update_metadata(chart_id, {"visualize": {"thick": True}})
    folder = dw.create_folder(name="Elections")
    dw.move_chart(chart_id, folder["id"])

    published = dw.publish_chart(chart_id, display=False)
    iframe = dw.get_iframe_code(chart_id, responsive=True)
    png_path = dw.export_chart(
        chart_id,
        output="png",
        filepath=str(workdir / "turnout.png"),
        width=400,
        plain=True,
        transparent=True,
        border_width=20,
    )

    charts = dw.get_charts(published=True)["list"]
    folders = dw.get_folders()["list"]
    me = dw.get_my_account()
    account = dw.account_info()
    properties = dw.chart_properties(chart_id)
    data = dw.get_data(chart_id)
    legacy_data = dw.chart_data(chart_id)
    urls = dw.get_chart_display_urls(chart_id)
    copy = dw.copy_chart(chart_id)
    refreshed = dw.refresh_data(chart_id)
    deleted = dw.delete_chart(copy["id"])
    return {
        "chart_id": chart_id,
        "published": published,
        "iframe": iframe,
        "png_path": png_path,
        "charts": charts,
        "folders": folders,
        "me": me,
        "account": account,
        "properties": properties,
        "data": data,
        "legacy_data": legacy_data,
        "urls": urls,
        "refreshed": refreshed,
        "deleted": deleted,
    }


def community_chart_class_script() -> dict[str, Any]:
    """The community client's chart-class style, unchanged."""
    import os

    import pandas as pd

    from datawrapper import BarChart

    chart = BarChart(
        title="Happiness scores",
        source_name="World Happiness Report",
        intro="Top three",
        data=pd.DataFrame({"Country": ["Finland", "Denmark"], "Score": [7.769, 7.6]}),
    )
    chart_id = chart.create(access_token=os.environ["DATAWRAPPER_ACCESS_TOKEN"])
    chart.publish()
    png = chart.export_png(width=600, zoom=2)
    loaded = BarChart.get(chart_id=chart_id, access_token=os.environ["DATAWRAPPER_ACCESS_TOKEN"])
    loaded.title = "Happiness scores 2019"
    loaded.update()
    return {"chart_id": chart_id, "png": png, "loaded": loaded}


def community_error_handling(chart_id: str) -> str:
    """Catching the community client's exception class, unchanged."""
    from datawrapper import Datawrapper, FailedRequestError

    try:
        Datawrapper().get_chart(chart_id)
    except FailedRequestError as error:
        return f"failed with {error.status_code}"
    return "ok"


# --------------------------------------------------------------------------- the tests


@pytest.mark.usefixtures("community_env")
def test_community_script_runs_unchanged(tmp_path: Path, api: FakeDatawrapperAPI) -> None:
    """The community script runs and gets the community's results; only aliases warn."""
    pytest.importorskip("pandas")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = community_client_script(tmp_path)
    chart_id = result["chart_id"]
    stored = api.charts[chart_id]
    assert stored["title"] == "Where do people vote most?"
    assert stored["language"] == "en-GB"
    assert stored["metadata"]["describe"]["source-name"] == "European Parliament"
    assert stored["metadata"]["visualize"]["thick"] is True
    assert stored["folderId"] == result["folders"][0]["id"]
    assert (
        api.chart_data[chart_id][0] == b"Country,Turnout\nBelgium,88.5\nMalta,72.7\nAustria,75.6\n"
    )
    assert result["published"]["data"]["id"] == chart_id
    assert result["iframe"].startswith("<iframe")
    assert result["png_path"] == tmp_path / "turnout.png"
    assert result["png_path"].read_bytes().startswith(b"\x89PNG")
    assert [c["id"] for c in result["charts"]] == [chart_id]
    assert result["me"] == result["account"]
    assert result["properties"]["id"] == chart_id
    assert (
        result["data"]
        == result["legacy_data"]
        == "Country,Turnout\nBelgium,88.5\nMalta,72.7\nAustria,75.6\n"
    )
    assert result["urls"][0]["url"].startswith("https://datawrapper.dwcdn.net/")
    assert result["refreshed"] is True
    assert result["deleted"] is True
    messages = [str(w.message) for w in caught]
    assert all(issubclass(w.category, DeprecationWarning) for w in caught)
    assert {m.split("()")[0].removeprefix("Datawrapper.") for m in messages} == DEPRECATED_ALIASES


@pytest.mark.usefixtures("community_env")
def test_community_chart_classes_run_unchanged(api: FakeDatawrapperAPI) -> None:
    """BarChart(...).create(access_token=...), publish, export_png, get and update work."""
    pytest.importorskip("pandas")
    result = community_chart_class_script()
    chart_id = result["chart_id"]
    assert result["png"].startswith(b"\x89PNG")
    assert api.charts[chart_id]["title"] == "Happiness scores 2019"
    assert api.charts[chart_id]["publicVersion"] == 1
    assert api.charts[chart_id]["metadata"]["describe"]["source-name"] == "World Happiness Report"
    assert result["loaded"].intro == "Top three"
    assert api.chart_data[chart_id][0] == b"Country,Score\nFinland,7.769\nDenmark,7.6\n"


@pytest.mark.usefixtures("community_env")
def test_community_error_handling_runs_unchanged() -> None:
    """except FailedRequestError still catches API errors, now with status_code set."""
    assert community_error_handling("zzzzz") == "failed with 404"


@pytest.mark.usefixtures("community_env")
def test_listed_differences_hold() -> None:
    """The differences docs/migration.md lists are real: data as text, bytes from exports."""
    pd = pytest.importorskip("pandas")
    client = dw.Datawrapper()
    chart_id = client.create_chart("Diff", "d3-bars", data="a\tb\n1\t2\n")["id"]
    assert client.get_data(chart_id) == "a\tb\n1\t2\n"
    assert isinstance(client.get_data(chart_id, as_dataframe=True), pd.DataFrame)
    assert isinstance(client.export_chart(chart_id), bytes)
    listing = client.get_charts()
    assert isinstance(listing, list) and listing["list"] is listing
    assert client.refresh_data(chart_id) is True
    with pytest.raises(dw.InvalidRequestError):
        client.get_iframe_code(chart_id)


def test_migration_doc_lists_every_deprecated_alias() -> None:
    """docs/migration.md names every deprecated alias and its replacement."""
    doc = (Path(__file__).parent.parent / "docs" / "migration.md").read_text(encoding="utf-8")
    for alias in sorted(DEPRECATED_ALIASES):
        assert f"`{alias}" in doc
    for replacement in ("get_chart", "get_data", "get_my_account", "update_chart"):
        assert f"`{replacement}" in doc
