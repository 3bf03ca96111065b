"""Every public method of the Datawrapper client against the in-process FakeDatawrapperAPI."""

from __future__ import annotations

import inspect
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import datawrapper as dw
from datawrapper import (
    Datawrapper,
    FailedRequestError,
    InvalidRequestError,
    MockTransport,
    NotFoundError,
    OperationKind,
    OperationTimeouts,
    PartialFailureError,
    RateLimitError,
    ReadError,
    ServerError,
    Timeout,
    UnauthorizedError,
)
from datawrapper.testing import FakeDatawrapperAPI, Fault, FaultScript, in_process_transport
from datawrapper.testing._app import LoggedRequest
from datawrapper.transport import Request, Response

BASE = "https://api.datawrapper.de"


def no_sleep(seconds: float) -> None:
    """A sleep that returns at once (retries in these tests never wait)."""


@pytest.fixture
def api() -> FakeDatawrapperAPI:
    return FakeDatawrapperAPI(id_seed=7)


@pytest.fixture
def transport(api: FakeDatawrapperAPI) -> MockTransport:
    return MockTransport(api)


@pytest.fixture
def client(transport: MockTransport) -> Iterator[Datawrapper]:
    with Datawrapper("test-token", base_url=BASE, transport=transport, sleep=no_sleep) as c:
        yield c


def faulty_client(api: FakeDatawrapperAPI, faults: FaultScript, **kwargs: Any) -> Datawrapper:
    """A client whose requests pass through ``faults`` before reaching ``api``."""
    transport = in_process_transport(api, faults, sleep=no_sleep)
    return Datawrapper("test-token", base_url=BASE, transport=transport, sleep=no_sleep, **kwargs)


def last(api: FakeDatawrapperAPI, method: str | None = None) -> LoggedRequest:
    """The last request the fake received (with ``method`` if given)."""
    for logged in reversed(api.log):
        if method is None or logged.method == method:
            return logged
    raise AssertionError(f"no {method} request in the log")


def body_of(logged: LoggedRequest) -> Any:
    """The JSON body of a logged request."""
    return json.loads(logged.body)


def header(logged: LoggedRequest, name: str) -> str | None:
    """A header of a logged request, case-insensitively."""
    for key, value in logged.headers.items():
        if key.lower() == name.lower():
            return value
    return None


def new_chart(client: Datawrapper, **kwargs: Any) -> str:
    """Create a chart and return its id."""
    chart_id: str = client.create_chart(kwargs.pop("title", "A chart"), **kwargs)["id"]
    return chart_id


# --------------------------------------------------------------------------- coverage guard

TESTED_METHODS = frozenset(
    [
        "map",
        "get",
        "post",
        "patch",
        "put",
        "delete",
        "request",
        "send",
        "timeout_for",
        "has_token",
        "close",
        "get_charts",
        "get_chart",
        "chart_properties",
        "create_chart",
        "update_chart",
        "update_metadata",
        "update_description",
        "move_chart",
        "delete_chart",
        "copy_chart",
        "fork_chart",
        "publish_chart",
        "unpublish_chart",
        "display_chart",
        "get_chart_display_urls",
        "get_iframe_code",
        "get_data",
        "chart_data",
        "add_data",
        "add_json",
        "refresh_data",
        "export_chart",
        "export_png",
        "export_pdf",
        "export_svg",
        "get_folders",
        "get_folder",
        "create_folder",
        "update_folder",
        "delete_folder",
        "get_themes",
        "get_theme",
        "get_basemaps",
        "get_basemap",
        "get_basemap_key",
        "get_my_account",
        "account_info",
        "update_my_account",
        "update_my_settings",
        "get_my_recently_edited_charts",
        "get_my_recently_published_charts",
        "get_users",
        "get_user",
        "update_user",
        "update_settings",
        "get_recently_edited_charts",
        "get_recently_published_charts",
        "get_workspaces",
        "get_workspace",
        "create_workspace",
        "update_workspace",
        "delete_workspace",
        "get_workspace_members",
        "update_workspace_members",
        "remove_workspace_members",
        "get_workspace_teams",
        "get_workspace_team",
        "create_workspace_team",
        "update_workspace_team",
        "delete_workspace_team",
        "get_workspace_team_members",
        "add_workspace_team_members",
        "update_workspace_team_members",
        "remove_workspace_team_members",
        "get_login_tokens",
        "create_login_token",
        "delete_login_token",
        "login",
        "get_api_tokens",
        "create_api_token",
        "update_api_token",
        "delete_api_token",
        "get_token_scopes",
        "get_oembed",
        "get_river",
        "get_river_chart",
        "update_river_chart",
    ]
)


def test_every_public_method_is_listed_as_tested() -> None:
    """The public methods of Datawrapper are exactly the ones this file tests (none forgotten)."""
    public = {
        name
        for name, value in inspect.getmembers(Datawrapper)
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }
    assert public - TESTED_METHODS == set()
    assert TESTED_METHODS - public == set()


def test_every_api_method_takes_a_per_call_timeout() -> None:
    """Every API method accepts timeout= and a keyword-only deadline= for one call."""
    infrastructure = {"request", "send", "timeout_for", "has_token", "close", "map"}
    missing = []
    for name in sorted(TESTED_METHODS - infrastructure):
        params = inspect.signature(getattr(Datawrapper, name)).parameters
        if "timeout" not in params:
            missing.append(f"{name}: timeout")
        deadline = params.get("deadline")
        if deadline is None or deadline.kind is not inspect.Parameter.KEYWORD_ONLY:
            missing.append(f"{name}: keyword-only deadline")
        elif deadline.default is not None:
            missing.append(f"{name}: deadline defaults to {deadline.default!r}")
    assert missing == []


def test_per_call_deadline_caps_the_attempt(api: FakeDatawrapperAPI) -> None:
    """deadline= on an API method reaches the request path: the attempt is capped to it."""
    transport = MockTransport(api)
    client = Datawrapper(
        "test-token", base_url=BASE, transport=transport, sleep=no_sleep, clock=lambda: 100.0
    )
    chart_id = new_chart(client)
    client.get_chart(chart_id, deadline=2.5)
    client.export_png(chart_id, deadline=4)
    client.get(f"/v3/charts/{chart_id}", deadline=1.5)
    assert [t.total for t in transport.timeouts[1:]] == [2.5, 4.0, 1.5]
    assert transport.timeouts[0].total is None  # no deadline on the client, none on the call


@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        (0, "deadline must be > 0 seconds"),
        (-1, "deadline must be > 0 seconds"),
        (float("nan"), "deadline must be a finite number"),
        (float("inf"), "deadline must be a finite number"),
        ("soon", "deadline must be a number of seconds"),
        (True, "deadline must be a number of seconds"),
    ],
)
def test_per_call_deadline_is_validated_before_any_traffic(
    client: Datawrapper, transport: MockTransport, deadline: Any, message: str
) -> None:
    """A deadline that is not a positive finite number is a ValueError naming deadline."""
    with pytest.raises(ValueError, match=message):
        client.get_chart("aBc12", deadline=deadline)
    with pytest.raises(ValueError, match=message):
        client.create_chart("T", data="a\n1\n", deadline=deadline)
    assert transport.requests == []


# --------------------------------------------------------------------------- charts


def test_create_chart_sends_json_with_real_booleans(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """create_chart sends one JSON POST whose booleans are JSON booleans and ids are ints."""
    folder = client.create_folder("Reports")
    chart = client.create_chart(
        "Turnout",
        "d3-lines",
        theme="datawrapper-data",
        folder_id=str(folder["id"]),
        forkable=True,
        language="de-DE",
        metadata={"describe": {"intro": "Hi"}},
    )
    sent = body_of(last(api, "POST"))
    assert sent["forkable"] is True
    assert sent["folderId"] == folder["id"]
    assert sent == {
        "title": "Turnout",
        "type": "d3-lines",
        "theme": "datawrapper-data",
        "folderId": folder["id"],
        "forkable": True,
        "language": "de-DE",
        "metadata": {"describe": {"intro": "Hi"}},
    }
    stored = api.charts[chart["id"]]
    assert (stored["type"], stored["language"], stored["forkable"]) == ("d3-lines", "de-DE", True)
    assert stored["metadata"]["describe"]["intro"] == "Hi"


def test_create_chart_with_data_uploads_csv(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Data given to create_chart is uploaded as CSV right after the chart is created."""
    chart = client.create_chart("T", "d3-bars", data={"country": ["A", "B"], "value": [1, 2.5]})
    assert api.chart_data[chart["id"]] == (b"country,value\nA,1\nB,2.5\n", "text/csv")
    assert [(r.method, r.path) for r in api.log] == [
        ("POST", "/v3/charts"),
        ("PUT", f"/v3/charts/{chart['id']}/data"),
    ]
    assert header(last(api, "PUT"), "Content-Type") == "text/csv; charset=utf-8"


def test_create_chart_with_bad_data_sends_nothing(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """Data that cannot become CSV is refused before the chart is created (nothing orphaned)."""
    with pytest.raises(InvalidRequestError, match="DataFrame"):
        client.create_chart("T", data=42)
    assert api.log == []
    assert api.charts == {}


def test_create_chart_upload_failure_names_the_created_chart(api: FakeDatawrapperAPI) -> None:
    """If the data upload fails after its retries, PartialFailureError names the chart."""
    faults = FaultScript()
    faults.add(Fault.status(503), method="PUT", path=r"/data$", times=10)
    client = faulty_client(api, faults, max_retries=2)
    with pytest.raises(PartialFailureError) as info:
        client.create_chart("T", data="a,b\n1,2\n")
    error = info.value
    assert error.chart_id in api.charts
    assert error.step == "add_data"
    assert isinstance(error.__cause__, ServerError)
    assert len(error.__cause__.attempts) == 3
    assert api.created_count == 1
    assert error.chart_id in error.message


def test_create_chart_post_is_not_repeated_after_a_reset(api: FakeDatawrapperAPI) -> None:
    """A creation that may have reached the server is not retried: one call, one chart."""
    faults = FaultScript()
    faults.add(Fault.reset(process=True), method="POST", path=r"/charts$")
    client = faulty_client(api, faults, max_retries=5)
    with pytest.raises(ReadError) as info:
        client.create_chart("T")
    assert info.value.outcome_unknown
    assert api.created_count == 1


def test_create_chart_validates_title_and_type(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """A non-string title or an empty type is refused before any traffic."""
    with pytest.raises(InvalidRequestError, match="title"):
        client.create_chart(123)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="chart_type"):
        client.create_chart("T", "")
    assert api.log == []


def test_get_charts_filters_and_chart_list(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get_charts sends only the given filters and returns a list that also answers ['list']."""
    ids = [new_chart(client, title=f"Chart {n}") for n in ("b", "a", "c")]
    client.publish_chart(ids[0])
    published = client.get_charts(published=True)
    assert [c["id"] for c in published] == [ids[0]]
    assert last(api).query == {"published": "true", "limit": "25"}
    page = client.get_charts(order="asc", order_by="title", limit=2, search="chart")
    assert [c["title"] for c in page] == ["Chart a", "Chart b"]
    assert page["list"] is page
    assert page["total"] == 3
    assert page.total == 3
    assert page["next"] is not None
    assert page.get("missing", "x") == "x"
    assert last(api).query == {"order": "ASC", "orderBy": "title", "limit": "2", "search": "chart"}


def test_get_charts_by_folder_and_bad_order(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """A folder filter lists that folder's charts; a bad order fails before traffic."""
    folder = client.create_folder("F")
    inside = new_chart(client, folder_id=folder["id"])
    new_chart(client)
    assert [c["id"] for c in client.get_charts(folder_id=folder["id"])] == [inside]
    count = len(api.log)
    with pytest.raises(InvalidRequestError, match="ASC"):
        client.get_charts(order="up")
    assert len(api.log) == count


def test_get_chart_and_deprecated_chart_properties(client: Datawrapper) -> None:
    """get_chart returns the chart; chart_properties does too but warns, naming get_chart."""
    chart_id = new_chart(client, title="Props")
    assert client.get_chart(chart_id)["title"] == "Props"
    with pytest.warns(DeprecationWarning, match=r"get_chart\(chart_id\)"):
        assert client.chart_properties(chart_id)["id"] == chart_id


def test_update_chart_patches_fields_and_uploads_data(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """update_chart PATCHes the given fields (deep-merging metadata) and uploads data."""
    chart_id = new_chart(client, metadata={"visualize": {"a": 1, "b": 2}})
    result = client.update_chart(
        chart_id,
        title="New",
        forkable=False,
        metadata={"visualize": {"b": 3}},
        data=[{"x": 1}],
    )
    assert result["title"] == "New"
    assert body_of(last(api, "PATCH")) == {
        "title": "New",
        "forkable": False,
        "metadata": {"visualize": {"b": 3}},
    }
    assert api.charts[chart_id]["metadata"]["visualize"] == {"a": 1, "b": 3}
    assert api.chart_data[chart_id][0] == b"x\n1\n"


def test_update_chart_with_data_only_returns_the_chart(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """Updating only the data sends no PATCH and still returns the chart's JSON."""
    chart_id = new_chart(client)
    result = client.update_chart(chart_id, data="a\n1\n")
    assert result["id"] == chart_id
    assert [r.method for r in api.log[1:]] == ["PUT", "GET"]


def test_update_chart_without_changes_fails_before_traffic(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """update_chart with nothing to change raises InvalidRequestError and sends nothing."""
    with pytest.raises(InvalidRequestError, match="no updates"):
        client.update_chart("abcde")
    assert api.log == []


def test_update_metadata_is_deprecated_and_deep_merges(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """update_metadata warns (pointing to update_chart) and deep-merges the metadata."""
    chart_id = new_chart(client)
    with pytest.warns(DeprecationWarning, match="update_chart"):
        result = client.update_metadata(chart_id, {"describe": {"byline": "Me"}})
    assert result["metadata"]["describe"]["byline"] == "Me"
    assert result["metadata"]["describe"]["source-name"] == ""
    with (
        pytest.warns(DeprecationWarning, match="update_metadata"),
        pytest.raises(InvalidRequestError, match="non-empty dict"),
    ):
        client.update_metadata(chart_id, {})


def test_update_description_sends_only_given_fields(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """update_description patches metadata.describe with the given fields only."""
    chart_id = new_chart(client)
    client.update_description(chart_id, hide_title=True)
    client.update_description(
        chart_id, source_name="Eurostat", intro="Turnout", number_divisor=1000
    )
    assert body_of(last(api, "PATCH")) == {
        "metadata": {
            "describe": {"source-name": "Eurostat", "intro": "Turnout", "number-divisor": 1000}
        }
    }
    describe = api.charts[chart_id]["metadata"]["describe"]
    assert describe["hide-title"] is True
    assert (describe["source-name"], describe["intro"]) == ("Eurostat", "Turnout")
    with pytest.raises(InvalidRequestError, match="no updates"):
        client.update_description(chart_id)


def test_move_chart(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """move_chart sets the chart's folder (int id even when given as text)."""
    chart_id = new_chart(client)
    folder = client.create_folder("Target")
    assert client.move_chart(chart_id, str(folder["id"]))["folderId"] == folder["id"]
    assert body_of(last(api, "PATCH")) == {"folderId": folder["id"]}
    with pytest.raises(InvalidRequestError, match="folder_id"):
        client.move_chart(chart_id, "not-a-folder")


def test_delete_chart_then_not_found(client: Datawrapper) -> None:
    """delete_chart returns True; the chart is then a NotFoundError with the API's message."""
    chart_id = new_chart(client)
    assert client.delete_chart(chart_id) is True
    with pytest.raises(NotFoundError) as info:
        client.get_chart(chart_id)
    assert info.value.status_code == 404
    assert info.value.error_message == "Chart not found"
    assert info.value.error == "Not Found"


def test_copy_and_fork_chart(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """copy_chart and fork_chart return the new charts, with the source's data."""
    chart_id = new_chart(client, title="Source", data="a\n1\n")
    copied = client.copy_chart(chart_id)
    forked = client.fork_chart(chart_id)
    assert copied["title"] == "Source (Copy)"
    assert forked["isFork"] is True
    assert forked["forkedFrom"] == chart_id
    assert api.chart_data[copied["id"]][0] == b"a\n1\n"
    assert api.copies_count == 2
    assert last(api, "POST").body == b""
    assert header(last(api, "POST"), "Content-Type") is None


@pytest.mark.parametrize("method", ["copy_chart", "fork_chart"])
def test_copy_and_fork_are_never_repeated_once_sent(api: FakeDatawrapperAPI, method: str) -> None:
    """A copy or fork whose answer was lost is not retried: it may have been made."""
    client = Datawrapper("test-token", base_url=BASE, transport=MockTransport(api))
    chart_id = new_chart(client)
    faults = FaultScript()
    faults.add(Fault.reset(process=True), method="POST", path=r"/(copy|fork)$")
    flaky = faulty_client(api, faults, max_retries=5)
    with pytest.raises(ReadError):
        getattr(flaky, method)(chart_id)
    assert api.copies_count == 1


def test_publish_chart_is_retried_like_a_put(api: FakeDatawrapperAPI) -> None:
    """Publishing is safe to repeat, so a 503 is retried; the answer has data, version, url."""
    client = Datawrapper("test-token", base_url=BASE, transport=MockTransport(api))
    chart_id = new_chart(client)
    faults = FaultScript()
    faults.add(Fault.status(503), method="POST", path=r"/publish$")
    flaky = faulty_client(api, faults, max_retries=2)
    result = flaky.publish_chart(chart_id)
    assert result["version"] == 1
    assert result["url"] == f"https://datawrapper.dwcdn.net/{chart_id}/1/"
    assert result["data"]["publicVersion"] == 1
    assert api.charts[chart_id]["publicUrl"] == result["url"]


def test_publish_post_has_no_body_and_no_content_type(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """POST /publish sends neither a body nor a bogus Content-Type."""
    client.publish_chart(new_chart(client))
    sent = last(api, "POST")
    assert sent.path.endswith("/publish")
    assert sent.body == b""
    assert header(sent, "Content-Type") is None


def test_display_needs_ipython(client: Datawrapper, monkeypatch: pytest.MonkeyPatch) -> None:
    """display=True and display_chart raise an ImportError naming IPython when it is missing."""
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    chart_id = new_chart(client)
    with pytest.raises(InvalidRequestError, match="not published"):
        client.display_chart(chart_id)
    with pytest.raises(ImportError, match="IPython"):
        client.publish_chart(chart_id, display=True)
    with pytest.raises(ImportError, match="IPython"):
        client.display_chart(chart_id)


def test_unpublish_chart(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """unpublish_chart returns True on 204 and the chart has no public URL any more."""
    chart_id = new_chart(client)
    client.publish_chart(chart_id)
    assert client.unpublish_chart(chart_id) is True
    assert api.charts[chart_id]["publicUrl"] is None


def test_get_chart_display_urls(client: Datawrapper) -> None:
    """get_chart_display_urls returns the API's list of {id, name, url}."""
    chart_id = new_chart(client)
    urls = client.get_chart_display_urls(chart_id)
    assert [u["id"] for u in urls] == ["default", "plain", "dark"]
    assert all(chart_id in u["url"] for u in urls)


def test_get_iframe_code(client: Datawrapper) -> None:
    """get_iframe_code returns the fixed or responsive embed code, or says to publish first."""
    chart_id = new_chart(client, title="Embed")
    with pytest.raises(InvalidRequestError, match="publish it first"):
        client.get_iframe_code(chart_id)
    client.publish_chart(chart_id)
    fixed = client.get_iframe_code(chart_id)
    responsive = client.get_iframe_code(chart_id, responsive=True)
    assert fixed.startswith("<iframe") and 'width="600"' in fixed
    assert "<script" in responsive and "<script" not in fixed


# --------------------------------------------------------------------------- chart data


def test_get_data_as_text_and_dataframe(client: Datawrapper) -> None:
    """get_data returns the stored CSV text unchanged, or a DataFrame when asked."""
    pd = pytest.importorskip("pandas")
    tsv = "Country\tTurnout\nBelgium\t88.5\nMalta\t72.7\n"
    chart_id = new_chart(client, data=tsv)
    assert client.get_data(chart_id) == tsv
    frame = client.get_data(chart_id, as_dataframe=True)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["Country", "Turnout"]
    assert frame["Turnout"].tolist() == [88.5, 72.7]


def test_get_data_without_pandas(client: Datawrapper, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pandas, get_data still returns text; a DataFrame request names the extra."""
    chart_id = new_chart(client, data="a,b\n1,2\n")
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert client.get_data(chart_id) == "a,b\n1,2\n"
    with pytest.raises(ImportError, match=r"datawrapper\[pandas\]"):
        client.get_data(chart_id, as_dataframe=True)


def test_chart_data_is_deprecated(client: Datawrapper) -> None:
    """chart_data returns the data and warns, naming get_data."""
    chart_id = new_chart(client, data="x\n1\n")
    with pytest.warns(DeprecationWarning, match="get_data"):
        assert client.chart_data(chart_id) == "x\n1\n"


def test_add_data_accepts_every_shape(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """add_data turns a DataFrame, row dicts, a dict of columns or text into the same CSV."""
    pd = pytest.importorskip("pandas")
    chart_id = new_chart(client)
    shapes = [
        pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
        {"a": [1, 2], "b": ["x", "y"]},
        "a,b\n1,x\n2,y\n",
        b"a,b\n1,x\n2,y\n",
    ]
    for shape in shapes:
        assert client.add_data(chart_id, shape) is True
        assert api.chart_data[chart_id] == (b"a,b\n1,x\n2,y\n", "text/csv")


def test_add_json_sets_the_flag_and_sends_json(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """add_json sets metadata.data.json to JSON true and uploads application/json data."""
    chart_id = new_chart(client, chart_type="locator-map")
    markers = {"markers": [{"type": "point", "coordinates": [13.4, 52.5]}]}
    assert client.add_json(chart_id, markers) is True
    assert body_of(last(api, "PATCH")) == {"metadata": {"data": {"json": True}}}
    assert api.charts[chart_id]["metadata"]["data"]["json"] is True
    assert header(last(api, "PUT"), "Content-Type") == "application/json"
    assert client.get_data(chart_id) == markers
    with pytest.raises(InvalidRequestError, match="not valid JSON"):
        client.add_json(chart_id, "{broken")


def test_refresh_data_204_is_success_and_retried(api: FakeDatawrapperAPI) -> None:
    """refresh_data returns True for the API's 204, and a 503 first is retried."""
    client = Datawrapper("test-token", base_url=BASE, transport=MockTransport(api))
    chart_id = new_chart(client)
    assert client.refresh_data(chart_id) is True
    faults = FaultScript()
    faults.add(Fault.status(503), method="POST", path=r"/refresh$")
    flaky = faulty_client(api, faults, max_retries=1)
    assert flaky.refresh_data(chart_id) is True
    assert [r.path.endswith("/refresh") for r in api.log].count(True) == 2


# --------------------------------------------------------------------------- export

ALL_EXPORT_PARAMS: dict[str, Any] = {
    "width": 300,
    "height": 200,
    "plain": True,
    "zoom": 3,
    "scale": 2,
    "unit": "px",
    "mode": "cmyk",
    "border_width": 10,
    "border_color": "#ffffff",
    "transparent": False,
    "logo": "off",
    "logo_id": "custom-logo",
    "dark": True,
    "full_vector": True,
    "ligatures": False,
    "download": True,
}


def test_export_sends_every_parameter_with_api_names(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """Every export option reaches the server under its API name, booleans as true/false."""
    chart_id = new_chart(client)
    content = client.export_chart(chart_id, "png", **ALL_EXPORT_PARAMS)
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    assert last(api).path == f"/v3/charts/{chart_id}/export/png"
    assert last(api).query == {
        "width": "300",
        "height": "200",
        "plain": "true",
        "zoom": "3",
        "scale": "2",
        "unit": "px",
        "mode": "cmyk",
        "borderWidth": "10",
        "borderColor": "#ffffff",
        "transparent": "false",
        "logo": "off",
        "logoId": "custom-logo",
        "dark": "true",
        "fullVector": "true",
        "ligatures": "false",
        "download": "true",
    }


def test_export_formats_return_their_bytes(client: Datawrapper) -> None:
    """export_png/pdf/svg return the matching file bytes; options left out are not sent."""
    chart_id = new_chart(client, title="Formats")
    assert client.export_png(chart_id).startswith(b"\x89PNG")
    assert client.export_pdf(chart_id, unit="mm", width=100).startswith(b"%PDF-1.4")
    svg = client.export_svg(chart_id, height="auto", borderWidth=2)
    assert b"<svg" in svg and b"Formats" in svg


def test_export_options_left_out_are_not_sent(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Without options the export query is empty, so the server's defaults apply."""
    client.export_png(new_chart(client))
    assert last(api).query == {}


def test_export_chart_to_file_returns_the_path(client: Datawrapper, tmp_path: Path) -> None:
    """With filepath the bytes are written there (suffix set to the format) and the Path returned."""
    chart_id = new_chart(client)
    path = client.export_chart(chart_id, "pdf", filepath=tmp_path / "chart.png")
    assert path == tmp_path / "chart.pdf"
    assert path.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"unit": "cm"}, "unit must be one of"),
        ({"mode": "hsl"}, "mode must be one of"),
        ({"logo": "maybe"}, "logo must be one of"),
        ({"width": 0}, "width must be >= 1"),
        ({"height": 0}, "height must be a number >= 1 or 'auto'"),
        ({"zoom": 0}, "zoom must be > 0"),
        ({"border_width": -1}, "borderWidth must be >= 0"),
        ({"plain": "yes"}, "plain must be True or False"),
        ({"color": "red"}, "unknown export parameter 'color'"),
        ({"border_width": 1, "borderWidth": 2}, "given twice"),
    ],
)
def test_bad_export_options_fail_before_traffic(
    client: Datawrapper, api: FakeDatawrapperAPI, params: dict[str, Any], message: str
) -> None:
    """A bad export option raises InvalidRequestError naming it, before any request."""
    with pytest.raises(InvalidRequestError, match=message):
        client.export_chart("abcde", **params)
    assert api.log == []


def test_bad_export_format_fails_before_traffic(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """An unknown export format is refused with the valid ones listed."""
    with pytest.raises(InvalidRequestError, match="'png', 'pdf' or 'svg'"):
        client.export_chart("abcde", "gif")
    assert api.log == []


# --------------------------------------------------------------------------- adaptive timeouts


def test_each_operation_kind_gets_its_own_timeout(
    client: Datawrapper, transport: MockTransport
) -> None:
    """Reads, writes, uploads, publishes and exports are sent with their kind's limits."""
    chart_id = new_chart(client)  # write
    client.get_chart(chart_id)  # read
    client.add_data(chart_id, "a\n1\n")  # upload
    client.publish_chart(chart_id)  # publish
    client.export_png(chart_id)  # export
    seen = [(t.read, t.write) for t in transport.timeouts]
    assert seen == [(30.0, 30.0), (30.0, 30.0), (60.0, 120.0), (120.0, 30.0), (120.0, 30.0)]


def test_per_call_timeout_overrides_the_kind(client: Datawrapper, transport: MockTransport) -> None:
    """timeout= on one call is used as is, as a Timeout or as seconds for all four limits."""
    chart_id = new_chart(client, timeout=3)
    client.export_pdf(chart_id, timeout=Timeout(2, read=600))
    assert transport.timeouts[0] == Timeout(3)
    assert transport.timeouts[1] == Timeout(2, read=600)
    with pytest.raises(InvalidRequestError, match="timeout must be"):
        client.get_chart(chart_id, timeout="soon")  # type: ignore[arg-type]


def test_client_timeouts_per_kind_and_base(api: FakeDatawrapperAPI) -> None:
    """timeouts= sets named kinds exactly; timeout= sets reads/writes and floors the slow kinds."""
    transport = MockTransport(api)
    client = Datawrapper(
        "test-token",
        base_url=BASE,
        transport=transport,
        timeout=Timeout(connect=2, read=200),
        timeouts={"export": Timeout(1, read=5), OperationKind.UPLOAD: 9},
    )
    chart_id = new_chart(client)
    client.add_data(chart_id, "a\n1\n")
    client.publish_chart(chart_id)
    client.export_svg(chart_id)
    create, upload, publish, export = transport.timeouts
    assert (create.connect, create.read) == (2.0, 200.0)
    assert upload == Timeout(9)
    assert (publish.connect, publish.read) == (2.0, 200.0)
    assert export == Timeout(1, read=5)
    assert client.timeout.read == 200.0


@pytest.mark.parametrize(
    ("timeouts", "message"),
    [
        ({"exprot": 5}, "unknown operation kind in timeouts 'exprot'"),
        ({"export": -1}, r"timeouts\['export'\]"),
        ({"upload": "long"}, r"timeouts\['upload'\] must be a datawrapper.Timeout"),
        ([("export", 5)], "mapping"),
    ],
)
def test_bad_timeouts_name_the_kind(timeouts: Any, message: str) -> None:
    """A wrong timeouts= entry raises ValueError naming the kind and what would do."""
    with pytest.raises(ValueError, match=message):
        Datawrapper("t", timeouts=timeouts)


def test_operation_timeouts_value_object() -> None:
    """OperationTimeouts is frozen, looks kinds up, derives copies and validates fields."""
    timeouts = OperationTimeouts(export=Timeout(3, read=300))
    assert timeouts.for_kind("export").read == 300.0
    assert timeouts.for_kind(OperationKind.UPLOAD).write == 120.0
    changed = timeouts.replace(read=4)
    assert changed.read == Timeout(4)
    assert changed.export == timeouts.export
    assert set(timeouts.as_dict()) == {"read", "write", "upload", "publish", "export"}
    assert "export=Timeout(connect=3, read=300" in repr(timeouts)
    with pytest.raises(AttributeError):
        timeouts.read = Timeout(1)  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown operation kind"):
        timeouts.for_kind("bulk")
    with pytest.raises(ValueError, match=r"timeouts\['publish'\]"):
        OperationTimeouts(publish=0)
    client = Datawrapper("t", timeouts=timeouts)
    assert client.timeouts is timeouts
    assert dw.DEFAULT_TIMEOUTS.export.read == 120.0


def test_request_kind_and_timeout_for(client: Datawrapper, transport: MockTransport) -> None:
    """request(kind=...) picks the kind's timeout; timeout_for shows what a call would use."""
    client.request("GET", "/me", kind="export")
    assert transport.timeouts[-1].read == 120.0
    assert client.timeout_for("POST") == client.timeouts.write
    assert client.timeout_for("GET", kind="upload").write == 120.0
    assert client.timeout_for("GET", timeout=7) == Timeout(7)
    with pytest.raises(ValueError, match="unknown operation kind"):
        client.request("GET", "/me", kind="slow")


# --------------------------------------------------------------------------- folders, themes, maps


def test_folders_lifecycle(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Folders can be listed, created (nested), read, renamed, moved and deleted."""
    parent = client.create_folder("Parent")
    child = client.create_folder("Child", parent_id=str(parent["id"]), team_id=None)
    assert body_of(last(api, "POST")) == {"name": "Child", "parentId": parent["id"]}
    assert client.get_folders()["total"] == 2
    chart_id = new_chart(client, folder_id=child["id"])
    fetched = client.get_folder(child["id"])
    assert [c["id"] for c in fetched["charts"]] == [chart_id]
    renamed = client.update_folder(child["id"], name="Renamed", parent_id=None)
    assert renamed["name"] == "Renamed"
    assert client.delete_folder(child["id"]) is True
    assert [f["id"] for f in client.get_folders()["list"]] == [parent["id"]]


def test_folder_input_errors(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Bad folder ids, names and empty updates are refused before any traffic."""
    with pytest.raises(InvalidRequestError, match="folder_id"):
        client.get_folder("reports")
    with pytest.raises(InvalidRequestError, match="folder name"):
        client.create_folder("  ")
    with pytest.raises(InvalidRequestError, match="no updates"):
        client.update_folder(1)
    assert api.log == []


def test_update_folder_user_id_is_sent(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """update_folder sends user_id as the API's userId (an int)."""
    folder = client.create_folder("Mine")
    try:
        client.update_folder(folder["id"], user_id="1")
    finally:
        assert body_of(last(api, "PATCH")) == {"userId": 1}


def test_themes(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get_themes sends limit, offset and deleted; get_theme returns one theme."""
    themes = client.get_themes(limit=2)
    assert len(themes["list"]) == 2
    assert themes["total"] == 4
    assert last(api).query == {"limit": "2", "offset": "0", "deleted": "false"}
    assert client.get_theme("datawrapper")["title"] == "Datawrapper"
    with pytest.raises(NotFoundError):
        client.get_theme("nope")


def test_basemaps(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get_basemaps, get_basemap (wgs84 as true/false) and get_basemap_key."""
    ids = [b["id"] for b in client.get_basemaps()]
    assert "world-2019" in ids
    world = client.get_basemap("world-2019", wgs84=True)
    assert world["wgs84"] is True
    assert last(api).query == {"wgs84": "true"}
    assert client.get_basemap_key("world-2019", "iso3") == ["FRA", "DEU", "ESP"]


# --------------------------------------------------------------------------- me and users


def test_me(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get_my_account, update_my_account and update_my_settings act on the token's user."""
    assert client.get_my_account()["email"] == "test@example.com"
    with pytest.warns(DeprecationWarning, match="get_my_account"):
        assert client.account_info()["id"] == 1
    updated = client.update_my_account(name="New Name", language="de-DE")
    assert (updated["name"], updated["language"]) == ("New Name", "de-DE")
    changed = client.update_my_account(password="new-secret", old_password="old-secret")
    assert changed["id"] == 1
    assert client.update_my_settings(active_team="team-a")["activeTeam"] == "team-a"


def test_me_input_errors(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """A password without the old one, or an empty update, is refused before traffic."""
    with pytest.raises(InvalidRequestError, match="old_password"):
        client.update_my_account(password="x")
    with pytest.raises(InvalidRequestError, match="no updates"):
        client.update_my_account()
    with pytest.raises(InvalidRequestError, match="active_team"):
        client.update_my_settings()
    assert api.log == []


def test_recent_charts(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """The recently edited/published lists of me and of a user filter and page."""
    first, second = new_chart(client), new_chart(client)
    client.publish_chart(second)
    assert client.get_my_recently_edited_charts()["total"] == 2
    assert last(api).query == {"limit": "100"}
    published = client.get_my_recently_published_charts(min_last_edit_step=1)
    assert [c["id"] for c in published["list"]] == [second]
    assert last(api).query == {"limit": "100", "minLastEditStep": "1"}
    assert client.get_recently_edited_charts(1, limit=1)["list"][0]["id"] in (first, second)
    assert client.get_recently_published_charts("1")["total"] == 1


def test_users(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get_users, get_user, update_user and update_settings."""
    users = client.get_users(search="test")
    assert [u["id"] for u in users["list"]] == [1]
    assert last(api).query == {"search": "test", "order": "ASC", "orderBy": "id", "limit": "100"}
    assert client.get_user("1")["email"] == "test@example.com"
    assert client.update_user(1, name="Renamed")["name"] == "Renamed"
    assert client.update_settings(1, active_team="t1")["activeTeam"] == "t1"
    with pytest.raises(InvalidRequestError, match="user_id"):
        client.get_user("me")
    with pytest.raises(InvalidRequestError, match="no updates"):
        client.update_user(1)
    with pytest.raises(InvalidRequestError, match="active_team"):
        client.update_settings(1)


# --------------------------------------------------------------------------- workspaces


def test_workspaces(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Workspaces can be created, listed, read, renamed and deleted."""
    created = client.create_workspace("Newsroom", slug="newsroom")
    assert created["slug"] == "newsroom"
    assert client.get_workspaces(search="news")["total"] == 1
    assert last(api).query == {"search": "news", "order": "ASC", "orderBy": "name", "limit": "100"}
    assert client.get_workspace("newsroom")["name"] == "Newsroom"
    assert client.update_workspace("newsroom", name="The Newsroom")["name"] == "The Newsroom"
    members = client.get_workspace_members("newsroom", role="owner", include_invites=True)
    assert members["list"][0]["id"] == 1
    assert last(api).query["includeInvites"] == "true"
    assert client.delete_workspace("newsroom") is True
    with pytest.raises(NotFoundError):
        client.get_workspace("newsroom")
    with pytest.raises(InvalidRequestError, match="no updates"):
        client.update_workspace("newsroom")


def test_workspace_teams(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Teams of a workspace can be created, listed, read, renamed and deleted."""
    client.create_workspace("Newsroom", slug="newsroom")
    team = client.create_workspace_team("newsroom", "Graphics")
    assert body_of(last(api, "POST")) == {"name": "Graphics"}
    assert client.get_workspace_teams("newsroom")["list"][0]["id"] == team["id"]
    assert client.get_workspace_team("newsroom", team["id"])["name"] == "Graphics"
    renamed = client.update_workspace_team("newsroom", team["id"], name="Data")
    assert renamed["name"] == "Data"
    assert client.get_workspace_team_members("newsroom", team["id"])["total"] == 0
    other = client.create_workspace_team("newsroom", "Other")
    assert client.delete_workspace_team("newsroom", team["id"], migration_team_id=other["id"])
    assert body_of(last(api, "DELETE")) == {"migrationTeamId": other["id"]}
    assert client.delete_workspace_team("newsroom", other["id"]) is True
    assert last(api, "DELETE").body == b""
    with pytest.raises(InvalidRequestError, match="team name"):
        client.create_workspace_team("newsroom", "")


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (
            lambda c: c.update_workspace_members("newsroom", [1], "admin"),
            "PATCH",
            "/v3/workspaces/newsroom/members",
            {"memberIds": [1], "role": "admin"},
        ),
        (
            lambda c: c.remove_workspace_members("newsroom", ["1"]),
            "DELETE",
            "/v3/workspaces/newsroom/members",
            {"memberIds": [1]},
        ),
        (
            lambda c: c.add_workspace_team_members("newsroom", "graphics", [1]),
            "POST",
            "/v3/workspaces/newsroom/teams/graphics/members",
            {"userIds": [1], "role": "member"},
        ),
        (
            lambda c: c.update_workspace_team_members("newsroom", "graphics", [1], "manager"),
            "PATCH",
            "/v3/workspaces/newsroom/teams/graphics/members",
            {"memberIds": [1], "role": "manager"},
        ),
        (
            lambda c: c.remove_workspace_team_members("newsroom", "graphics", [1]),
            "DELETE",
            "/v3/workspaces/newsroom/teams/graphics/members",
            {"memberIds": [1]},
        ),
        (
            lambda c: c.create_workspace_team("newsroom", "Private", is_private=True, icon="star"),
            "POST",
            "/v3/workspaces/newsroom/teams",
            {"name": "Private", "isPrivate": True, "icon": "star"},
        ),
        (
            lambda c: c.update_workspace_team("newsroom", "graphics", is_private=False),
            "PATCH",
            "/v3/workspaces/newsroom/teams/graphics",
            {"isPrivate": False},
        ),
        (
            lambda c: c.update_workspace("newsroom", color="#ff0000", settings={"a": 1}),
            "PATCH",
            "/v3/workspaces/newsroom",
            {"color": "#ff0000", "settings": {"a": 1}},
        ),
    ],
)
def test_workspace_member_bodies(
    client: Datawrapper,
    api: FakeDatawrapperAPI,
    call: Callable[[Datawrapper], Any],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    """Member and team calls send the community client's JSON bodies and succeed."""
    client.create_workspace("Newsroom", slug="newsroom")
    client.create_workspace_team("newsroom", "Graphics")
    try:
        call(client)
    finally:
        sent = last(api)
        assert (sent.method, sent.path, body_of(sent)) == (method, path, body)


def test_member_ids_are_validated(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Member id lists must be non-empty lists of ints; checked before any traffic."""
    with pytest.raises(InvalidRequestError, match="member_ids"):
        client.update_workspace_members("ws", [], "admin")
    with pytest.raises(InvalidRequestError, match="user_ids"):
        client.add_workspace_team_members("ws", "t", "1")  # type: ignore[arg-type]
    assert api.log == []


# --------------------------------------------------------------------------- auth


def test_login_tokens(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """Login tokens: create (bodiless POST), list, log in once, delete."""
    token = client.create_login_token()
    sent = last(api, "POST")
    assert (sent.body, header(sent, "Content-Type")) == (b"", None)
    assert client.get_login_tokens()["total"] == 1
    assert "token" not in client.get_login_tokens()["list"][0]
    second = client.create_login_token()
    assert client.delete_login_token(second["id"]) is True
    me = client.login(token["token"])
    assert me["email"] == "test@example.com"
    assert client.get_login_tokens()["total"] == 0


def test_api_tokens(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """API tokens: scopes, create (secret returned), list, update, delete."""
    scopes = client.get_token_scopes()
    assert "chart:read" in scopes
    created = client.create_api_token("CI", ["chart:read", "chart:write"])
    assert len(created["token"]) == 64
    assert body_of(last(api, "POST")) == {"comment": "CI", "scopes": ["chart:read", "chart:write"]}
    listed = client.get_api_tokens(limit=10)
    assert listed["list"][0]["comment"] == "CI"
    assert client.update_api_token(created["id"], "CI (renamed)", ["chart:read"]) is True
    assert api.api_tokens[created["id"]]["scopes"] == ["chart:read"]
    assert client.delete_api_token(str(created["id"])) is True
    assert api.api_tokens == {}
    with pytest.raises(InvalidRequestError, match="scopes"):
        client.create_api_token("x", "chart:read")


def test_new_api_token_secret_is_redacted_from_errors(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """A token secret returned by create_api_token never shows in a later error message."""
    created = client.create_api_token("CI", ["chart:read"])
    secret = created["token"]
    from datawrapper._redact import redact_text

    assert secret not in redact_text(f"oops {secret}")


# --------------------------------------------------------------------------- oEmbed and River


def test_oembed(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get_oembed sends format=json and iframe as true, and returns the oEmbed document."""
    chart_id = new_chart(client, title="Embeddable")
    url = client.publish_chart(chart_id)["url"]
    doc = client.get_oembed(url, max_width=300, iframe=True)
    assert doc["title"] == "Embeddable"
    assert doc["width"] == 300
    assert doc["html"].startswith("<iframe")
    assert last(api).query == {"url": url, "format": "json", "maxwidth": "300", "iframe": "true"}
    with pytest.raises(InvalidRequestError, match="url"):
        client.get_oembed("")


def test_river(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get_river lists forkable charts, get_river_chart reads one, update_river_chart changes it."""
    chart_id = new_chart(client, title="Shared", forkable=True)
    river = client.get_river(approved=True, search="Shared")
    assert [c["id"] for c in river["list"]] == [chart_id]
    assert last(api).query == {"approved": "true", "limit": "100", "search": "Shared"}
    assert client.get_river_chart(chart_id)["title"] == "Shared"
    assert client.update_river_chart(chart_id, description="About", tags=["vote"]) is True
    assert body_of(last(api, "PUT")) == {"description": "About", "tags": ["vote"]}
    assert client.get_river_chart(chart_id)["tags"] == ["vote"]
    with pytest.raises(InvalidRequestError, match="no updates"):
        client.update_river_chart(chart_id)


def test_update_river_chart_community_fields(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """update_river_chart sends byline and forkable (a JSON boolean) as the community client did."""
    chart_id = new_chart(client, forkable=True)
    try:
        client.update_river_chart(chart_id, "About", "By me", ["t"], True)
    finally:
        assert body_of(last(api, "PUT")) == {
            "description": "About",
            "byline": "By me",
            "tags": ["t"],
            "forkable": True,
        }


# --------------------------------------------------------------------------- raw verbs


def test_raw_verbs_take_full_urls(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """get/post/patch/put/delete accept community-style full URLs and go through request()."""
    charts_url = f"{BASE}/v3/charts"
    created = client.post(charts_url, {"title": "Raw", "forkable": True})
    assert created["title"] == "Raw"
    assert body_of(last(api, "POST"))["forkable"] is True
    chart_url = f"{charts_url}/{created['id']}"
    assert client.get(chart_url)["id"] == created["id"]
    assert client.get(f"{charts_url}?limit=1", params={"search": "Raw"})["total"] == 1
    assert last(api).query == {"limit": "1", "search": "Raw"}
    assert client.patch(chart_url, {"title": "Patched"})["title"] == "Patched"
    assert client.put(
        f"{chart_url}/data", b"a\n1\n", extra_headers={"content-type": "text/csv"}, dump_data=False
    )
    assert api.chart_data[created["id"]] == (b"a\n1\n", "text/csv")
    assert client.put(f"/v3/river/{created['id']}", {"description": "d"}) is True
    assert client.get("/v3/charts/" + created["id"] + "/data") == "a\n1\n"
    assert client.delete(chart_url) is True
    assert api.charts[created["id"]]["deleted"] is True


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("https://api.datawrapper.de", "https://api.datawrapper.de/v3/me"),
        ("https://api.datawrapper.de", "/v3/me"),
        ("https://api.datawrapper.de", "/me"),
        ("https://api.datawrapper.de/v3", "https://api.datawrapper.de/v3/me"),
        ("https://api.datawrapper.de/v3", "/v3/me"),
        ("https://api.datawrapper.de/v3/", "me"),
    ],
)
def test_raw_urls_map_to_the_api_path(api: FakeDatawrapperAPI, base_url: str, url: str) -> None:
    """Full URLs and paths, with or without /v3, reach the same endpoint whatever the base_url."""
    client = Datawrapper("test-token", base_url=base_url, transport=MockTransport(api))
    assert client.get(url)["id"] == 1
    assert last(api).path == "/v3/me"


def test_raw_post_without_data_sends_no_content_type(
    client: Datawrapper, api: FakeDatawrapperAPI
) -> None:
    """A bodiless raw POST drops a caller's content-type header (nothing to describe)."""
    assert client.post(
        f"{BASE}/v3/auth/login-tokens", extra_headers={"content-type": "application/json"}
    )
    assert header(last(api, "POST"), "Content-Type") is None


def test_raw_verbs_refuse_other_hosts(client: Datawrapper, api: FakeDatawrapperAPI) -> None:
    """A full URL on another host is refused: the token only goes to base_url."""
    with pytest.raises(InvalidRequestError, match="only sent there"):
        client.get("https://evil.example/v3/me")
    with pytest.raises(InvalidRequestError, match="url"):
        client.get("")
    assert api.log == []


# --------------------------------------------------------------------------- errors and traps


CHART_METHODS: list[tuple[str, tuple[Any, ...]]] = [
    ("get_chart", ()),
    ("update_chart", ("T",)),
    ("update_description", ("src",)),
    ("move_chart", (1,)),
    ("delete_chart", ()),
    ("copy_chart", ()),
    ("fork_chart", ()),
    ("publish_chart", ()),
    ("unpublish_chart", ()),
    ("display_chart", ()),
    ("get_chart_display_urls", ()),
    ("get_iframe_code", ()),
    ("get_data", ()),
    ("add_data", ("a\n1\n",)),
    ("add_json", ({"a": 1},)),
    ("refresh_data", ()),
    ("export_chart", ()),
    ("export_png", ()),
    ("export_pdf", ()),
    ("export_svg", ()),
    ("get_river_chart", ()),
    ("update_river_chart", ("d",)),
]


@pytest.mark.parametrize(("method", "args"), CHART_METHODS)
@pytest.mark.parametrize("bad_id", ["abc", "abcdef", "ab-de", 12345, None])
def test_invalid_chart_ids_fail_before_traffic(
    client: Datawrapper, api: FakeDatawrapperAPI, method: str, args: tuple[Any, ...], bad_id: Any
) -> None:
    """Every chart method refuses an id that cannot be a Datawrapper id, sending nothing."""
    with pytest.raises(InvalidRequestError, match="chart id"):
        getattr(client, method)(bad_id, *args)
    assert api.log == []


def test_unknown_token_is_unauthorized(api: FakeDatawrapperAPI) -> None:
    """A token the API does not know raises UnauthorizedError with the API's message."""
    client = Datawrapper("wrong-token", base_url=BASE, transport=MockTransport(api))
    with pytest.raises(UnauthorizedError) as info:
        client.get_my_account()
    assert info.value.status_code == 401
    assert info.value.error_message == "Invalid authentication credentials"
    assert "wrong-token" not in str(info.value)


def test_validation_error_keeps_details(client: Datawrapper) -> None:
    """A 400 from the API keeps its parsed message and validation details."""
    with pytest.raises(FailedRequestError) as info:
        client.create_chart("T", "no-such-type")
    error = info.value
    assert error.status_code == 400
    assert error.error_type == "validation-error"
    assert error.details == [{"path": "type", "type": "any.only"}]
    assert error.response.status_code == 400


def test_rate_limit_beyond_max_retry_after_raises_at_once(api: FakeDatawrapperAPI) -> None:
    """A 429 asking for a longer wait than allowed raises RateLimitError with retry_after."""
    faults = FaultScript()
    faults.add(Fault.rate_limited("3600"), method="GET")
    client = faulty_client(api, faults)
    with pytest.raises(RateLimitError) as info:
        client.get_my_account()
    assert info.value.retry_after == 3600.0
    assert len(api.log) == 0


def test_response_without_content_type_does_not_crash() -> None:
    """A 2xx without Content-Type is decoded: JSON if it is JSON, else text, else bytes."""
    bodies = iter([b'{"id": 1}', b"plain words", b"\xff\xfe\x00", b""])

    def handler(request: Request) -> Response:
        return Response(200, {}, next(bodies))

    client = Datawrapper("t", base_url=BASE, transport=MockTransport(handler))
    assert client.get_my_account() == {"id": 1}
    assert client.get(f"{BASE}/v3/anything") == "plain words"
    assert client.get(f"{BASE}/v3/anything") == b"\xff\xfe\x00"
    assert client.get_my_account() is True


def test_deprecations_point_to_the_caller(client: Datawrapper) -> None:
    """Deprecation warnings are attributed to the calling line, not to the library."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.account_info()
    assert len(caught) == 1
    assert caught[0].filename == __file__
