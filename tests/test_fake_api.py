"""Tests of FakeDatawrapperAPI, the in-memory fake of the Datawrapper API v3."""

from __future__ import annotations

import copy
import json
import os
import re
import struct
import threading
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from datawrapper.testing import FakeDatawrapperAPI
from datawrapper.testing._app import CHART_TYPES, LoggedRequest
from datawrapper.transport import Headers, MockTransport, Request, Response, Timeout

BASE = "https://api.datawrapper.de/v3"
NOW = datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=timezone.utc)
SAMPLES = Path(
    os.environ.get("DATAWRAPPER_PEER_SAMPLES", str(Path(__file__).parent / "data" / "peer-samples"))
)
SAMPLE_CSVS = sorted(SAMPLES.glob("*/*.csv"))
SAMPLE_CHARTS = sorted(SAMPLES.glob("*/*.json"))


def call(
    api: FakeDatawrapperAPI,
    method: str,
    path: str,
    body: Any = None,
    *,
    content: bytes = b"",
    headers: dict[str, str] | None = None,
    token: str | None = "test-token",
) -> Response:
    """Send one request to ``api`` the way a client would."""
    fields: dict[str, str] = {}
    if token is not None:
        fields["Authorization"] = f"Bearer {token}"
    if body is not None:
        content = json.dumps(body).encode("utf-8")
        fields["Content-Type"] = "application/json"
    fields.update(headers or {})
    return api(Request(method, BASE + path, headers=Headers(fields), content=content))


def create(api: FakeDatawrapperAPI, **fields: Any) -> dict[str, Any]:
    """Create a chart and return its JSON."""
    response = call(api, "POST", "/charts", fields)
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


def assert_boom(response: Response, status: int) -> dict[str, Any]:
    """Check that ``response`` is a Boom error of ``status`` and return its body."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body: dict[str, Any] = response.json()
    assert body["statusCode"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def assert_contains(actual: Any, expected: Any, where: str = "") -> None:
    """Check that every key of ``expected`` is in ``actual`` with an equal value."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            assert_contains(actual[key], value, f"{where}.{key}")
    else:
        assert actual == expected, where


@pytest.fixture
def api() -> FakeDatawrapperAPI:
    """A fresh fake with deterministic ids and a fixed clock."""
    return FakeDatawrapperAPI(id_seed=42, clock=lambda: NOW)


# --------------------------------------------------------------------------- auth and routing


def test_missing_token_is_401(api: FakeDatawrapperAPI) -> None:
    """A request without Authorization gets the documented 401 body."""
    response = call(api, "GET", "/me", token=None)
    assert response.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Invalid authentication credentials",
    }


def test_unknown_token_is_401(api: FakeDatawrapperAPI) -> None:
    """An unknown Bearer token is rejected."""
    assert_boom(call(api, "GET", "/charts", token="wrong"), 401)


def test_remove_token_mid_session(api: FakeDatawrapperAPI) -> None:
    """A token removed between calls turns the next call into a 401."""
    assert call(api, "GET", "/me").status_code == 200
    api.remove_token("test-token")
    assert_boom(call(api, "GET", "/me"), 401)
    api.add_token("other")
    assert call(api, "GET", "/me", token="other").status_code == 200


def test_unknown_route_is_404_and_wrong_method_405(api: FakeDatawrapperAPI) -> None:
    """Unknown paths give 404, known paths with another method 405 with Allow."""
    assert_boom(call(api, "GET", "/nothing-here"), 404)
    chart = create(api)
    assert_boom(call(api, "GET", f"/charts/{chart['id']}/unknown"), 404)
    response = call(api, "GET", f"/charts/{chart['id']}/publish")
    assert_boom(response, 405)
    assert response.headers["Allow"] == "POST"
    outside = api(Request("GET", "https://api.datawrapper.de/v2/charts"))
    assert_boom(outside, 404)


def test_log_redacts_authorization(api: FakeDatawrapperAPI) -> None:
    """The request log keeps method, path, query and body but not the token."""
    call(api, "GET", "/charts?limit=5&search=x")
    entry = api.log[-1]
    assert isinstance(entry, LoggedRequest)
    assert (entry.method, entry.path, entry.query) == (
        "GET",
        "/v3/charts",
        {"limit": "5", "search": "x"},
    )
    assert entry.headers["Authorization"] == "Bearer [REDACTED]"
    assert "test-token" not in repr(api.log)


def test_mock_transport_can_serve_the_fake(api: FakeDatawrapperAPI) -> None:
    """MockTransport(api) answers in-process."""
    transport = MockTransport(api)
    request = Request("GET", BASE + "/me", headers=Headers({"Authorization": "Bearer test-token"}))
    response = transport.send(request, timeout=Timeout(5))
    assert response.json()["id"] == 1


# --------------------------------------------------------------------------- charts


def test_create_chart_defaults(api: FakeDatawrapperAPI) -> None:
    """POST /charts with no body makes a chart with the documented defaults."""
    response = call(api, "POST", "/charts")
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    chart = response.json()
    assert re.fullmatch(r"[0-9A-Za-z]{5}", chart["id"])
    assert chart["publicId"] == chart["id"]
    assert chart["url"] == f"/v3/charts/{chart['id']}"
    expected = {
        "type": "d3-bars",
        "title": "",
        "theme": "datawrapper",
        "language": "en-US",
        "publicVersion": 0,
        "publicUrl": None,
        "publishedAt": None,
        "forkable": False,
        "isFork": False,
        "deleted": False,
        "authorId": 1,
    }
    assert_contains(chart, expected)
    assert chart["createdAt"] == chart["lastModifiedAt"] == "2024-05-01T12:30:45.123Z"
    assert chart["author"] == {"name": "Test User", "email": "test@example.com"}
    sections = {"data", "describe", "visualize", "publish", "annotate", "axes", "custom"}
    assert sections <= set(chart["metadata"])
    assert api.created_count == 1


def test_id_seed_makes_ids_deterministic() -> None:
    """Two fakes with the same seed hand out the same ids; reset restarts the sequence."""
    first, second = FakeDatawrapperAPI(id_seed=3), FakeDatawrapperAPI(id_seed=3)
    ids = [create(first)["id"] for _ in range(3)]
    assert ids == [create(second)["id"] for _ in range(3)]
    first.reset()
    assert create(first)["id"] == ids[0]
    assert len(first.charts) == 1


def test_get_chart_and_errors(api: FakeDatawrapperAPI) -> None:
    """GET /charts/{id} returns the chart; bad ids give 400 with details, unknown ones 404."""
    chart = create(api, title="Hello", type="d3-lines")
    assert call(api, "GET", f"/charts/{chart['id']}").json() == chart
    assert_boom(call(api, "GET", "/charts/zzzzz"), 404)
    body = assert_boom(call(api, "GET", "/charts/abcd"), 400)
    assert body["type"] == "validation-error"
    assert body["details"] == [{"path": "id", "type": "string.length"}]
    assert assert_boom(call(api, "GET", "/charts/ab-cd"), 400)["details"][0]["path"] == "id"


def test_patch_deep_merges_metadata(api: FakeDatawrapperAPI) -> None:
    """PATCH merges nested metadata and updates plain fields."""
    chart = create(api, metadata={"describe": {"intro": "Hi", "byline": "Me"}})
    patch = {"title": "New", "metadata": {"describe": {"intro": "Changed"}, "visualize": {"x": 1}}}
    updated = call(api, "PATCH", f"/charts/{chart['id']}", patch).json()
    assert updated["title"] == "New"
    assert updated["metadata"]["describe"]["intro"] == "Changed"
    assert updated["metadata"]["describe"]["byline"] == "Me"
    assert updated["metadata"]["visualize"] == {"x": 1}
    assert api.charts[chart["id"]]["title"] == "New"


def test_put_replaces_metadata(api: FakeDatawrapperAPI) -> None:
    """PUT replaces the metadata instead of merging it."""
    chart = create(api, metadata={"describe": {"intro": "Hi"}})
    response = call(api, "PUT", f"/charts/{chart['id']}", {"metadata": {"visualize": {"y": 2}}})
    assert response.status_code == 200
    assert response.json()["metadata"] == {"visualize": {"y": 2}}


def test_put_accepts_a_fetched_chart_back(api: FakeDatawrapperAPI) -> None:
    """Read-only fields of a chart sent back with PUT are ignored, not rejected."""
    chart = create(api, title="A")
    chart["title"] = "B"
    response = call(api, "PUT", f"/charts/{chart['id']}", chart)
    assert response.json()["title"] == "B"


def test_delete_chart(api: FakeDatawrapperAPI) -> None:
    """DELETE answers 204; afterwards the chart is 404 and not listed."""
    chart = create(api)
    response = call(api, "DELETE", f"/charts/{chart['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert_boom(call(api, "GET", f"/charts/{chart['id']}"), 404)
    assert_boom(call(api, "DELETE", f"/charts/{chart['id']}"), 404)
    assert call(api, "GET", "/charts").json()["total"] == 0
    assert api.charts[chart["id"]]["deleted"] is True


@pytest.mark.parametrize(
    ("body", "path", "error_type"),
    [
        ([1, 2], "", "object.base"),
        ({"type": "pie-in-the-sky"}, "type", "any.only"),
        ({"title": 5}, "title", "string.base"),
        ({"title": None}, "title", "string.base"),
        ({"forkable": "true"}, "forkable", "boolean.base"),
        ({"language": "English"}, "language", "string.pattern.base"),
        ({"folderId": "12"}, "folderId", "number.base"),
        ({"metadata": []}, "metadata", "object.base"),
        ({"colour": "red"}, "colour", "object.unknown"),
    ],
)
def test_create_chart_validation(
    api: FakeDatawrapperAPI, body: Any, path: str, error_type: str
) -> None:
    """Bad payloads give 400 validation errors naming the field; nothing is created."""
    error = assert_boom(call(api, "POST", "/charts", body), 400)
    assert error["type"] == "validation-error"
    assert {"path": path, "type": error_type} in error["details"]
    assert api.created_count == 0
    assert not api.charts


def test_create_chart_rejects_bad_json_and_media_type(api: FakeDatawrapperAPI) -> None:
    """Broken JSON is a 400, a non-JSON payload type a 415."""
    broken = call(
        api, "POST", "/charts", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert_boom(broken, 400)
    text = call(api, "POST", "/charts", content=b"title=x", headers={"Content-Type": "text/plain"})
    assert_boom(text, 415)


def test_every_documented_chart_type_is_accepted(api: FakeDatawrapperAPI) -> None:
    """Each chart type id of the reference (plus multiple-columns) can be created."""
    for chart_type in sorted(CHART_TYPES):
        assert create(api, type=chart_type)["type"] == chart_type
    assert "multiple-columns" in CHART_TYPES
    assert "d3-maps-choropleth" in CHART_TYPES


def test_list_charts_filters_and_pagination(api: FakeDatawrapperAPI) -> None:
    """GET /charts filters, orders and pages, with a next link while more remain."""
    for i in range(5):
        create(api, title=f"Chart {i}", folderId=7 if i % 2 else None)
    first = call(api, "GET", "/charts?limit=2&order=ASC&orderBy=title").json()
    assert first["total"] == 5
    assert [c["title"] for c in first["list"]] == ["Chart 0", "Chart 1"]
    assert first["next"] == "/v3/charts?limit=2&order=ASC&orderBy=title&offset=2"
    last = call(api, "GET", "/charts?limit=2&offset=4&order=ASC&orderBy=title").json()
    assert [c["title"] for c in last["list"]] == ["Chart 4"]
    assert "next" not in last
    assert call(api, "GET", "/charts?folderId=7").json()["total"] == 2
    assert call(api, "GET", "/charts?search=chart%203").json()["list"][0]["title"] == "Chart 3"
    newest = call(api, "GET", "/charts").json()["list"][0]
    assert newest["title"] == "Chart 4"
    assert call(api, "GET", "/charts?published=true").json()["total"] == 0
    assert call(api, "GET", "/charts?userId=1").json()["total"] == 5
    error = assert_boom(call(api, "GET", "/charts?limit=0&orderBy=colour"), 400)
    assert {d["path"] for d in error["details"]} == {"limit", "orderBy"}


# --------------------------------------------------------------------------- data


@pytest.mark.parametrize("csv_path", SAMPLE_CSVS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_csv_round_trip(api: FakeDatawrapperAPI, csv_path: Path) -> None:
    """Each community sample CSV comes back byte for byte."""
    content = csv_path.read_bytes()
    chart = create(api)
    put = call(
        api,
        "PUT",
        f"/charts/{chart['id']}/data",
        content=content,
        headers={"Content-Type": "text/csv"},
    )
    assert (put.status_code, put.content) == (204, b"")
    got = call(api, "GET", f"/charts/{chart['id']}/data")
    assert got.status_code == 200
    assert got.content == content
    assert got.content_type == "text/csv"
    assert api.chart_data[chart["id"]] == (content, "text/csv")


@pytest.mark.parametrize("json_path", SAMPLE_CHARTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_chart_metadata_round_trip(api: FakeDatawrapperAPI, json_path: Path) -> None:
    """A chart created from each sample's type, title and metadata reads back the same."""
    sample = json.loads(json_path.read_text(encoding="utf-8"))["chart"]["crdt"]["data"]
    fields = {k: sample[k] for k in ("type", "title", "theme", "language", "forkable", "metadata")}
    chart = create(api, **fields)
    got = call(api, "GET", f"/charts/{chart['id']}").json()
    assert_contains(got, fields)
    assert got["metadata"] == chart["metadata"]


def test_data_defaults_json_and_refresh(api: FakeDatawrapperAPI) -> None:
    """Missing data reads as empty CSV; JSON data keeps its type; refresh answers 204."""
    chart_id = create(api)["id"]
    empty = call(api, "GET", f"/charts/{chart_id}/data")
    assert (empty.status_code, empty.content, empty.content_type) == (200, b"", "text/csv")
    no_type = call(api, "PUT", f"/charts/{chart_id}/data", content=b"a,b\n1,2\n")
    assert no_type.status_code == 204
    assert api.chart_data[chart_id] == (b"a,b\n1,2\n", "text/csv")
    data = b'{"rows": [1, 2]}'
    headers = {"Content-Type": "application/json"}
    assert (
        call(api, "PUT", f"/charts/{chart_id}/data", content=data, headers=headers).status_code
        == 204
    )
    got = call(api, "GET", f"/charts/{chart_id}/data")
    assert (got.content, got.content_type) == (data, "application/json")
    assert call(api, "POST", f"/charts/{chart_id}/data/refresh").status_code == 204
    assert_boom(call(api, "PUT", "/charts/zzzzz/data", content=b"a"), 404)


def test_data_too_large_and_wrong_type(api: FakeDatawrapperAPI) -> None:
    """Data above max_data_bytes is a 413; other content types a 415."""
    small = FakeDatawrapperAPI(max_data_bytes=10)
    chart_id = create(small)["id"]
    big = call(
        small,
        "PUT",
        f"/charts/{chart_id}/data",
        content=b"x" * 11,
        headers={"Content-Type": "text/csv"},
    )
    assert_boom(big, 413)
    fits = call(small, "PUT", f"/charts/{chart_id}/data", content=b"x" * 10)
    assert fits.status_code == 204
    xml = call(
        small,
        "PUT",
        f"/charts/{chart_id}/data",
        content=b"<a/>",
        headers={"Content-Type": "application/xml"},
    )
    assert_boom(xml, 415)
    assert small.chart_data[chart_id][0] == b"x" * 10


# --------------------------------------------------------------------------- publishing, copies


def test_publish_bumps_version_and_sets_embed_codes(api: FakeDatawrapperAPI) -> None:
    """Each publish increments the version and sets url, publishedAt and embed codes."""
    chart_id = create(api, title='Tom & "Jerry"')["id"]
    first = call(api, "POST", f"/charts/{chart_id}/publish")
    assert first.status_code == 200
    body = first.json()
    assert body["version"] == 1
    assert body["url"] == f"https://datawrapper.dwcdn.net/{chart_id}/1/"
    assert body["data"]["publicUrl"] == body["url"]
    assert body["data"]["publishedAt"] == "2024-05-01T12:30:45.123Z"
    publish = body["data"]["metadata"]["publish"]
    iframe = publish["embed-codes"]["embed-method-iframe"]
    assert iframe.startswith("<iframe")
    assert body["url"] in iframe
    assert 'title="Tom &amp; &quot;Jerry&quot;"' in iframe
    assert "<script" in publish["embed-codes"]["embed-method-responsive"]
    assert (publish["embed-width"], publish["embed-height"]) == (600, 400)
    second = call(api, "POST", f"/charts/{chart_id}/publish", {}).json()
    assert second["version"] == 2
    assert api.charts[chart_id]["publicVersion"] == 2


def test_publish_rejects_non_object_body(api: FakeDatawrapperAPI) -> None:
    """A publish payload that is not a JSON object is a 400, as in chekos#424."""
    chart_id = create(api)["id"]
    error = assert_boom(call(api, "POST", f"/charts/{chart_id}/publish", "publish"), 400)
    assert error["details"] == [{"path": "", "type": "object.base"}]
    assert api.charts[chart_id]["publicVersion"] == 0


def test_unpublish(api: FakeDatawrapperAPI) -> None:
    """Unpublishing answers 204 and clears publicUrl and publishedAt."""
    chart_id = create(api)["id"]
    call(api, "POST", f"/charts/{chart_id}/publish")
    assert call(api, "POST", f"/charts/{chart_id}/unpublish").status_code == 204
    chart = call(api, "GET", f"/charts/{chart_id}").json()
    assert chart["publicUrl"] is None
    assert chart["publishedAt"] is None


def test_copy_and_fork(api: FakeDatawrapperAPI) -> None:
    """Copies and forks are new charts with the data; a fork cannot be copied."""
    source = create(api, title="Original", metadata={"describe": {"intro": "x"}})
    call(api, "PUT", f"/charts/{source['id']}/data", content=b"a\n1\n")
    copied = call(api, "POST", f"/charts/{source['id']}/copy")
    assert copied.status_code == 201
    copy_json = copied.json()
    assert copy_json["id"] != source["id"]
    assert copy_json["title"] == "Original (Copy)"
    assert copy_json["metadata"]["describe"]["intro"] == "x"
    assert api.chart_data[copy_json["id"]][0] == b"a\n1\n"
    fork = call(api, "POST", f"/charts/{source['id']}/fork").json()
    assert (fork["isFork"], fork["forkedFrom"]) == (True, source["id"])
    assert_boom(call(api, "POST", f"/charts/{fork['id']}/copy"), 400)
    assert (api.created_count, api.copies_count) == (1, 2)


def test_display_urls(api: FakeDatawrapperAPI) -> None:
    """display-urls lists {id, name, url} entries."""
    chart_id = create(api)["id"]
    urls = call(api, "GET", f"/charts/{chart_id}/display-urls").json()
    assert urls
    assert all(set(u) == {"id", "name", "url"} for u in urls)
    assert all(chart_id in u["url"] for u in urls)


# --------------------------------------------------------------------------- exports


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, checking the signature and every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks.append((tag, body))
        pos += 12 + length
    return chunks


def test_export_png_is_valid(api: FakeDatawrapperAPI) -> None:
    """The PNG export has valid chunks and the requested size."""
    chart_id = create(api)["id"]
    response = call(api, "GET", f"/charts/{chart_id}/export/png?width=320&height=200&zoom=2")
    assert response.status_code == 200
    assert response.content_type == "image/png"
    chunks = png_chunks(response.content)
    assert next(t for t, _ in chunks) == b"IHDR"
    assert chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert (width, height) == (320, 200)
    pixels = zlib.decompress(b"".join(b for t, b in chunks if t == b"IDAT"))
    assert len(pixels) == height * (1 + (width + 7) // 8)
    assert json.loads(response.headers["X-Fake-Export-Params"]) == {
        "width": 320,
        "height": 200,
        "zoom": 2,
    }
    default = call(api, "GET", f"/charts/{chart_id}/export/png?height=auto&transparent=true")
    chunks = png_chunks(default.content)
    assert struct.unpack(">II", chunks[0][1][:8]) == (600, 400)
    assert b"tRNS" in [t for t, _ in chunks]
    huge = call(api, "GET", f"/charts/{chart_id}/export/png?width=100000")
    assert struct.unpack(">II", png_chunks(huge.content)[0][1][:8]) == (4000, 400)


def test_export_pdf_is_valid(api: FakeDatawrapperAPI) -> None:
    """The PDF export has a header, a trailer and a startxref pointing at the xref table."""
    chart_id = create(api, title="Report (draft)")["id"]
    response = call(api, "GET", f"/charts/{chart_id}/export/pdf?unit=mm&width=210&mode=cmyk")
    assert response.content_type == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF-1.4")
    assert data.rstrip().endswith(b"%%EOF")
    found = re.search(rb"startxref\n(\d+)\n", data)
    assert found is not None
    assert data[int(found.group(1)) :].startswith(b"xref")
    assert b"/MediaBox [0 0 595.28" in data


def test_export_svg_is_valid(api: FakeDatawrapperAPI) -> None:
    """The SVG export parses as XML with the requested size and the chart title."""
    chart_id = create(api, title="A < B")["id"]
    response = call(api, "GET", f"/charts/{chart_id}/export/svg?width=500&height=300&download=true")
    assert response.content_type == "image/svg+xml"
    assert "attachment" in response.headers["content-disposition"]
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("500", "300")
    assert root.findtext("{http://www.w3.org/2000/svg}title") == "A < B"


@pytest.mark.parametrize(
    ("query", "path", "error_type"),
    [
        ("unit=cm", "unit", "any.only"),
        ("mode=hsl", "mode", "any.only"),
        ("width=0", "width", "number.min"),
        ("width=wide", "width", "number.base"),
        ("height=0", "height", "number.min"),
        ("plain=yes", "plain", "boolean.base"),
        ("logo=maybe", "logo", "any.only"),
        ("scale=big", "scale", "number.base"),
        ("borderWidth=-1", "borderWidth", "number.min"),
        ("fullvector=true", "fullvector", "object.unknown"),
    ],
)
def test_export_rejects_bad_params(
    api: FakeDatawrapperAPI, query: str, path: str, error_type: str
) -> None:
    """Each bad export parameter gives a 400 validation error naming it."""
    chart_id = create(api)["id"]
    error = assert_boom(call(api, "GET", f"/charts/{chart_id}/export/png?{query}"), 400)
    assert error["type"] == "validation-error"
    assert error["details"] == [{"path": path, "type": error_type}]


def test_export_unknown_format_and_chart(api: FakeDatawrapperAPI) -> None:
    """An unknown format is a 400 and an unknown chart a 404."""
    chart_id = create(api)["id"]
    assert_boom(call(api, "GET", f"/charts/{chart_id}/export/zip"), 400)
    assert_boom(call(api, "GET", "/charts/zzzzz/export/png"), 404)


# --------------------------------------------------------------------------- folders


def test_folders_crud(api: FakeDatawrapperAPI) -> None:
    """Folders can be created, listed, renamed, nested and deleted; names clash with 409."""
    created = call(api, "POST", "/folders", {"name": "Reports"})
    assert created.status_code == 201
    folder = created.json()
    assert isinstance(folder["id"], int)
    assert folder["parentId"] is None
    assert_boom(call(api, "POST", "/folders", {"name": "Reports"}), 409)
    child = call(api, "POST", "/folders", {"name": "Reports", "parentId": folder["id"]})
    assert child.status_code == 201
    assert call(api, "GET", "/folders").json()["total"] == 2
    chart = create(api, folderId=folder["id"])
    got = call(api, "GET", f"/folders/{folder['id']}").json()
    assert [c["id"] for c in got["charts"]] == [chart["id"]]
    renamed = call(api, "PATCH", f"/folders/{folder['id']}", {"name": "Archive"}).json()
    assert renamed["name"] == "Archive"
    cycle = call(api, "PATCH", f"/folders/{folder['id']}", {"parentId": child.json()["id"]})
    assert assert_boom(cycle, 400)["details"][0]["path"] == "parentId"
    assert call(api, "DELETE", f"/folders/{folder['id']}").status_code == 204
    assert_boom(call(api, "GET", f"/folders/{folder['id']}"), 404)
    assert api.charts[chart["id"]]["folderId"] is None
    assert_boom(call(api, "GET", "/folders/abc"), 400)
    missing_name = assert_boom(call(api, "POST", "/folders", {}), 400)
    assert missing_name["details"] == [{"path": "name", "type": "any.required"}]


def test_folder_owner_moves_with_user_id_and_team_id(api: FakeDatawrapperAPI) -> None:
    """PATCH userId (an int) makes a folder the user's own; a non-null teamId makes it the team's."""
    folder = call(api, "POST", "/folders", {"name": "Mine"}).json()
    assert (folder["userId"], folder["teamId"]) == (1, None)
    to_team = call(api, "PATCH", f"/folders/{folder['id']}", {"teamId": "graphics"})
    assert (to_team.json()["userId"], to_team.json()["teamId"]) == (None, "graphics")
    back = call(api, "PATCH", f"/folders/{folder['id']}", {"userId": 1})
    assert back.status_code == 200
    assert (back.json()["userId"], back.json()["teamId"]) == (1, None)
    assert (api.folders[folder["id"]]["userId"], api.folders[folder["id"]]["teamId"]) == (1, None)
    renamed = call(api, "PATCH", f"/folders/{folder['id']}", {"name": "Still mine"}).json()
    assert (renamed["userId"], renamed["teamId"]) == (1, None)
    team_folder = call(api, "POST", "/folders", {"name": "Shared", "teamId": "graphics"}).json()
    released = call(api, "PATCH", f"/folders/{team_folder['id']}", {"teamId": None}).json()
    assert (released["userId"], released["teamId"]) == (1, None)
    assert_boom(call(api, "PATCH", f"/folders/{folder['id']}", {"userId": 99}), 404)


@pytest.mark.parametrize(
    ("body", "path", "error_type"),
    [
        ({"userId": "1"}, "userId", "number.base"),
        ({"userId": True}, "userId", "number.base"),
        ({"userId": None}, "userId", "number.base"),
        ({"userId": 1, "teamId": "graphics"}, "userId", "object.nand"),
    ],
)
def test_folder_user_id_is_validated(
    api: FakeDatawrapperAPI, body: dict[str, Any], path: str, error_type: str
) -> None:
    """A non-integer userId, or one sent with a non-null teamId, is a 400 and changes nothing."""
    folder = call(api, "POST", "/folders", {"name": "Mine"}).json()
    error = assert_boom(call(api, "PATCH", f"/folders/{folder['id']}", body), 400)
    assert error["type"] == "validation-error"
    assert error["details"] == [{"path": path, "type": error_type}]
    assert api.folders[folder["id"]] == folder


# --------------------------------------------------------------------------- other routes


def test_themes(api: FakeDatawrapperAPI) -> None:
    """Themes list includes datawrapper, which can be fetched by id."""
    themes = call(api, "GET", "/themes?limit=10&offset=0&deleted=false").json()
    assert themes["total"] >= 2
    assert "datawrapper" in [t["id"] for t in themes["list"]]
    assert call(api, "GET", "/themes/datawrapper").json()["id"] == "datawrapper"
    assert_boom(call(api, "GET", "/themes/nope"), 404)


def test_basemaps(api: FakeDatawrapperAPI) -> None:
    """Basemaps list, fetch with wgs84 and list the values of a key."""
    basemaps = call(api, "GET", "/basemaps").json()
    assert isinstance(basemaps, list)
    assert basemaps[0]["id"]
    one = call(api, "GET", "/basemaps/world-2019?wgs84=true").json()
    assert one["wgs84"] is True
    assert one["data"]["type"] == "FeatureCollection"
    assert "Germany" in call(api, "GET", "/basemaps/world-2019/name").json()
    assert_boom(call(api, "GET", "/basemaps/world-2019/nope"), 404)
    assert_boom(call(api, "GET", "/basemaps/world-2019?wgs84=maybe"), 400)


def test_me_and_settings(api: FakeDatawrapperAPI) -> None:
    """GET/PATCH /me and /me/settings read and change the user."""
    me = call(api, "GET", "/me").json()
    assert {"id", "email", "name", "role", "language"} <= set(me)
    assert isinstance(me["id"], int)
    updated = call(api, "PATCH", "/me", {"name": "Ada", "language": "de-DE"}).json()
    assert (updated["name"], updated["language"]) == ("Ada", "de-DE")
    assert api.user["name"] == "Ada"
    assert_boom(call(api, "PATCH", "/me", {"email": "not-an-email"}), 400)
    settings = call(api, "PATCH", "/me/settings", {"activeTeam": "team-a"}).json()
    assert settings["activeTeam"] == "team-a"


def test_custom_user() -> None:
    """The user given to the constructor is what /me returns."""
    api = FakeDatawrapperAPI(user={"id": 99, "email": "a@b.c", "name": "Ann"})
    assert_contains(call(api, "GET", "/me").json(), {"id": 99, "email": "a@b.c", "name": "Ann"})


def test_recently_edited_and_published(api: FakeDatawrapperAPI) -> None:
    """The recently-* lists return the user's charts, published ones only for the second."""
    a, b = create(api, title="a"), create(api, title="b")
    call(api, "POST", f"/charts/{a['id']}/publish")
    edited = call(api, "GET", "/me/recently-edited-charts?limit=10").json()
    assert edited["total"] == 2
    published = call(api, "GET", "/me/recently-published-charts").json()
    assert [c["id"] for c in published["list"]] == [a["id"]]
    by_user = call(api, "GET", "/users/1/recently-edited-charts").json()
    assert {c["id"] for c in by_user["list"]} == {a["id"], b["id"]}
    assert call(api, "GET", "/users/1/recently-published-charts").json()["total"] == 1


def test_users(api: FakeDatawrapperAPI) -> None:
    """Users can be listed, fetched, updated, and their settings changed."""
    assert call(api, "GET", "/users").json()["total"] == 1
    assert call(api, "GET", "/users/1").json()["email"] == "test@example.com"
    assert call(api, "PATCH", "/users/1", {"name": "Bob"}).json()["name"] == "Bob"
    assert call(api, "PATCH", "/users/1/settings", {"x": 1}).json()["x"] == 1
    assert_boom(call(api, "GET", "/users/2"), 404)


def test_workspaces_and_teams(api: FakeDatawrapperAPI) -> None:
    """Workspaces, their members, teams and team members can be managed."""
    created = call(api, "POST", "/workspaces", {"name": "Newsroom"})
    assert created.status_code == 201
    assert created.json()["slug"] == "newsroom"
    assert_boom(call(api, "POST", "/workspaces", {"name": "Newsroom"}), 409)
    assert call(api, "GET", "/workspaces").json()["total"] == 1
    assert call(api, "PATCH", "/workspaces/newsroom", {"name": "News"}).json()["name"] == "News"
    member = call(
        api, "PATCH", "/workspaces/newsroom/members", {"email": "new@example.com", "role": "member"}
    ).json()
    assert member["role"] == "member"
    assert call(api, "GET", "/workspaces/newsroom/members").json()["total"] == 2
    gone = call(api, "DELETE", "/workspaces/newsroom/members", {"email": "new@example.com"})
    assert gone.status_code == 204

    team = call(api, "POST", "/workspaces/newsroom/teams", {"name": "Graphics"}).json()
    other = call(api, "POST", "/workspaces/newsroom/teams", {"name": "Data"}).json()
    assert call(api, "GET", "/workspaces/newsroom/teams").json()["total"] == 2
    team_path = f"/workspaces/newsroom/teams/{team['id']}"
    assert call(api, "GET", team_path).json()["name"] == "Graphics"
    assert call(api, "PATCH", team_path, {"name": "Graphix"}).json()["name"] == "Graphix"
    added = call(api, "POST", f"{team_path}/members", {"userId": 1, "role": "admin"})
    assert added.status_code == 204
    assert_boom(call(api, "POST", f"{team_path}/members", {"userId": 1}), 409)
    patched = call(api, "PATCH", f"{team_path}/members", {"userId": 1, "role": "owner"})
    assert patched.json()["role"] == "owner"
    assert call(api, "GET", f"{team_path}/members").json()["list"][0]["id"] == 1
    assert call(api, "DELETE", f"{team_path}/members", {"userId": 1}).status_code == 204

    chart = create(api, organizationId=team["id"])
    deleted = call(api, "DELETE", f"{team_path}?migrationTeamId={other['id']}")
    assert deleted.status_code == 204
    assert api.charts[chart["id"]]["organizationId"] == other["id"]
    assert_boom(call(api, "GET", team_path), 404)
    assert call(api, "DELETE", "/workspaces/newsroom").status_code == 204
    assert_boom(call(api, "GET", "/workspaces/newsroom"), 404)


def new_workspace(api: FakeDatawrapperAPI) -> None:
    """Create workspace ``newsroom`` (owner: user 1) with user 2 as member and team ``graphics``."""
    assert call(api, "POST", "/workspaces", {"name": "Newsroom"}).status_code == 201
    invite = {"email": "two@example.com", "role": "member"}
    assert call(api, "PATCH", "/workspaces/newsroom/members", invite).json()["id"] == 2
    assert call(api, "POST", "/workspaces/newsroom/teams", {"name": "Graphics"}).status_code == 201


def roles(api: FakeDatawrapperAPI, path: str) -> dict[int, str]:
    """The members listed at ``path`` as id -> role."""
    return {m["id"]: m["role"] for m in call(api, "GET", path).json()["list"]}


WS_MEMBERS = "/workspaces/newsroom/members"
TEAM_MEMBERS = "/workspaces/newsroom/teams/graphics/members"


def test_workspace_member_lists(api: FakeDatawrapperAPI) -> None:
    """PATCH/DELETE with memberIds change or remove several workspace members, all or none."""
    new_workspace(api)
    updated = call(api, "PATCH", WS_MEMBERS, {"memberIds": [1, 2], "role": "manager"})
    assert updated.status_code == 200
    assert updated.json() == {
        "list": [
            {"id": 1, "email": "test@example.com", "role": "manager"},
            {"id": 2, "email": "two@example.com", "role": "manager"},
        ],
        "total": 2,
    }
    call(api, "PATCH", WS_MEMBERS, {"memberIds": [2, 2], "role": "admin"})
    assert roles(api, WS_MEMBERS) == {1: "manager", 2: "admin"}
    missing = assert_boom(
        call(api, "PATCH", WS_MEMBERS, {"memberIds": [1, 99], "role": "member"}), 404
    )
    assert "99" in missing["message"]
    assert roles(api, WS_MEMBERS) == {1: "manager", 2: "admin"}
    assert_boom(call(api, "DELETE", WS_MEMBERS, {"memberIds": [2, 99]}), 404)
    assert set(roles(api, WS_MEMBERS)) == {1, 2}
    call(api, "POST", TEAM_MEMBERS, {"userIds": [2]})
    assert call(api, "DELETE", WS_MEMBERS, {"memberIds": [2]}).status_code == 204
    assert roles(api, WS_MEMBERS) == {1: "manager"}
    assert roles(api, TEAM_MEMBERS) == {}


def test_team_member_lists(api: FakeDatawrapperAPI) -> None:
    """userIds add workspace members to a team; memberIds change or remove team members."""
    new_workspace(api)
    added = call(api, "POST", TEAM_MEMBERS, {"userIds": [1, 2], "role": "manager"})
    assert added.status_code == 204
    assert roles(api, TEAM_MEMBERS) == {1: "manager", 2: "manager"}
    assert_boom(call(api, "POST", TEAM_MEMBERS, {"userIds": [2]}), 409)
    outsider = api.users[1] | {"id": 3, "email": "three@example.com"}
    api.users[3] = outsider
    assert "3" in assert_boom(call(api, "POST", TEAM_MEMBERS, {"userIds": [3]}), 404)["message"]
    assert set(roles(api, TEAM_MEMBERS)) == {1, 2}

    patched = call(api, "PATCH", TEAM_MEMBERS, {"memberIds": [2], "role": "member"})
    assert patched.json() == {
        "list": [{"id": 2, "email": "two@example.com", "role": "member"}],
        "total": 1,
    }
    assert roles(api, TEAM_MEMBERS) == {1: "manager", 2: "member"}
    assert_boom(call(api, "PATCH", TEAM_MEMBERS, {"memberIds": [2, 3], "role": "manager"}), 404)
    assert roles(api, TEAM_MEMBERS) == {1: "manager", 2: "member"}

    assert call(api, "DELETE", TEAM_MEMBERS, {"memberIds": [1]}).status_code == 204
    assert roles(api, TEAM_MEMBERS) == {2: "member"}
    # Workspace members outside the team are skipped by PATCH and DELETE, not refused.
    skipped = call(api, "PATCH", TEAM_MEMBERS, {"memberIds": [1], "role": "manager"})
    assert skipped.json() == {"list": [], "total": 0}
    assert call(api, "DELETE", TEAM_MEMBERS, {"memberIds": [1]}).status_code == 204
    assert roles(api, TEAM_MEMBERS) == {2: "member"}
    assert roles(api, WS_MEMBERS) == {1: "owner", 2: "member"}
    added_default = call(api, "POST", TEAM_MEMBERS, {"userIds": [1]})
    assert added_default.status_code == 204
    assert roles(api, TEAM_MEMBERS) == {2: "member", 1: "member"}


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("PATCH", WS_MEMBERS, {"memberIds": "1", "role": "admin"}, ("memberIds", "array.base")),
        ("PATCH", WS_MEMBERS, {"memberIds": None, "role": "admin"}, ("memberIds", "array.base")),
        ("PATCH", WS_MEMBERS, {"memberIds": [], "role": "admin"}, ("memberIds", "array.min")),
        (
            "PATCH",
            WS_MEMBERS,
            {"memberIds": [1, "2"], "role": "admin"},
            ("memberIds.1", "number.base"),
        ),
        (
            "PATCH",
            WS_MEMBERS,
            {"memberIds": [True], "role": "admin"},
            ("memberIds.0", "number.base"),
        ),
        (
            "PATCH",
            WS_MEMBERS,
            {"memberIds": [1.5], "role": "admin"},
            ("memberIds.0", "number.base"),
        ),
        ("PATCH", WS_MEMBERS, {"memberIds": [0], "role": "admin"}, ("memberIds.0", "number.min")),
        ("PATCH", WS_MEMBERS, {"memberIds": [1]}, ("role", "any.required")),
        ("PATCH", WS_MEMBERS, {"memberIds": [1], "role": 3}, ("role", "string.base")),
        ("PATCH", WS_MEMBERS, {"memberIds": [1], "role": "king"}, ("role", "any.only")),
        (
            "PATCH",
            WS_MEMBERS,
            {"memberIds": [1], "role": "admin", "userId": 1},
            ("userId", "object.unknown"),
        ),
        ("DELETE", WS_MEMBERS, {"memberIds": [1], "role": "admin"}, ("role", "object.unknown")),
        ("DELETE", WS_MEMBERS, {"memberIds": {"id": 1}}, ("memberIds", "array.base")),
        ("POST", TEAM_MEMBERS, {"userIds": []}, ("userIds", "array.min")),
        ("POST", TEAM_MEMBERS, {"userIds": ["1"]}, ("userIds.0", "number.base")),
        ("POST", TEAM_MEMBERS, {"userIds": [1], "role": None}, ("role", "string.base")),
        ("POST", TEAM_MEMBERS, {"userIds": [1], "memberIds": [1]}, ("memberIds", "object.unknown")),
        ("POST", TEAM_MEMBERS, {"memberIds": [1]}, ("memberIds", "object.unknown")),
        ("PATCH", TEAM_MEMBERS, {"memberIds": [1], "role": False}, ("role", "string.base")),
        (
            "PATCH",
            TEAM_MEMBERS,
            {"memberIds": [1, [2]], "role": "member"},
            ("memberIds.1", "number.base"),
        ),
        ("DELETE", TEAM_MEMBERS, {"memberIds": "all"}, ("memberIds", "array.base")),
    ],
)
def test_member_list_bodies_are_validated(
    api: FakeDatawrapperAPI, method: str, path: str, body: dict[str, Any], detail: tuple[str, str]
) -> None:
    """A member-list body with a wrong type or field is a 400 naming it, and changes nothing."""
    new_workspace(api)
    call(api, "POST", TEAM_MEMBERS, {"userIds": [1]})
    before = (roles(api, WS_MEMBERS), roles(api, TEAM_MEMBERS))
    error = assert_boom(call(api, method, path, body), 400)
    assert error["type"] == "validation-error"
    assert error["details"] == [{"path": detail[0], "type": detail[1]}]
    assert f'"{detail[0]}"' in error["message"]
    assert (roles(api, WS_MEMBERS), roles(api, TEAM_MEMBERS)) == before


def test_team_privacy_icon_and_settings(api: FakeDatawrapperAPI) -> None:
    """Teams take isPrivate and icon on create, and isPrivate, icon, settings, secrets on PATCH."""
    new_workspace(api)
    plain = call(api, "GET", "/workspaces/newsroom/teams/graphics").json()
    assert (plain["isPrivate"], plain["icon"], plain["settings"]) == (False, None, {})
    body = {"name": "Private", "isPrivate": True, "icon": "star"}
    created = call(api, "POST", "/workspaces/newsroom/teams", body)
    assert created.status_code == 201
    assert (created.json()["isPrivate"], created.json()["icon"]) == (True, "star")
    path = "/workspaces/newsroom/teams/private"
    assert call(api, "PATCH", path, {"isPrivate": False}).json()["isPrivate"] is False
    call(api, "PATCH", path, {"settings": {"a": {"b": 1}}, "secrets": {"key": "s3cret"}})
    changed = call(api, "PATCH", path, {"settings": {"a": {"c": 2}}, "icon": "moon"}).json()
    assert changed["settings"] == {"a": {"b": 1, "c": 2}}
    assert changed["icon"] == "moon"
    assert "secrets" not in changed
    assert "s3cret" not in call(api, "GET", path).content.decode()
    assert api.workspaces["newsroom"]["teams"]["private"]["secrets"] == {"key": "s3cret"}


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        (
            "POST",
            "/workspaces/newsroom/teams",
            {"name": "T", "isPrivate": "true"},
            ("isPrivate", "boolean.base"),
        ),
        ("POST", "/workspaces/newsroom/teams", {"name": "T", "icon": 5}, ("icon", "string.base")),
        (
            "PATCH",
            "/workspaces/newsroom/teams/graphics",
            {"isPrivate": 1},
            ("isPrivate", "boolean.base"),
        ),
        (
            "PATCH",
            "/workspaces/newsroom/teams/graphics",
            {"settings": []},
            ("settings", "object.base"),
        ),
        (
            "PATCH",
            "/workspaces/newsroom/teams/graphics",
            {"secrets": "x"},
            ("secrets", "object.base"),
        ),
        ("PATCH", "/workspaces/newsroom", {"color": 255}, ("color", "string.base")),
        ("PATCH", "/workspaces/newsroom", {"settings": "dark"}, ("settings", "object.base")),
        ("PATCH", "/workspaces/newsroom", {"secrets": ["k"]}, ("secrets", "object.base")),
        ("PATCH", "/workspaces/newsroom", {"slug": "Bad Slug"}, ("slug", "string.pattern.base")),
        ("PATCH", "/workspaces/newsroom", {"isPrivate": True}, ("isPrivate", "object.unknown")),
    ],
)
def test_team_and_workspace_fields_are_validated(
    api: FakeDatawrapperAPI, method: str, path: str, body: dict[str, Any], detail: tuple[str, str]
) -> None:
    """Wrong-typed team and workspace fields are a 400 naming the field, and change nothing."""
    new_workspace(api)
    before = copy.deepcopy(api.workspaces)
    error = assert_boom(call(api, method, path, body), 400)
    assert error["details"] == [{"path": detail[0], "type": detail[1]}]
    assert api.workspaces == before


def test_workspace_color_settings_secrets_and_slug(api: FakeDatawrapperAPI) -> None:
    """PATCH a workspace's color, settings (merged), write-only secrets, and slug (a rename)."""
    new_workspace(api)
    body = {"color": "#ff0000", "settings": {"a": 1}, "secrets": {"token": "s3cret"}}
    patched = call(api, "PATCH", "/workspaces/newsroom", body)
    assert patched.status_code == 200
    assert (patched.json()["color"], patched.json()["settings"]) == ("#ff0000", {"a": 1})
    assert "secrets" not in patched.json()
    merged = call(api, "PATCH", "/workspaces/newsroom", {"settings": {"b": {"c": 2}}}).json()
    assert merged["settings"] == {"a": 1, "b": {"c": 2}}
    assert merged["color"] == "#ff0000"
    assert "s3cret" not in call(api, "GET", "/workspaces").content.decode()
    assert api.workspaces["newsroom"]["secrets"] == {"token": "s3cret"}

    call(api, "POST", "/workspaces", {"name": "Desk"})
    assert_boom(call(api, "PATCH", "/workspaces/newsroom", {"slug": "desk"}), 409)
    renamed = call(api, "PATCH", "/workspaces/newsroom", {"slug": "news-desk"}).json()
    assert renamed["slug"] == "news-desk"
    assert_boom(call(api, "GET", "/workspaces/newsroom"), 404)
    team = call(api, "GET", "/workspaces/news-desk/teams/graphics").json()
    assert team["workspace"] == "news-desk"
    assert roles(api, "/workspaces/news-desk/members") == {1: "owner", 2: "member"}


def test_api_tokens(api: FakeDatawrapperAPI) -> None:
    """Created API tokens authenticate until deleted; scopes are validated."""
    scopes = call(api, "GET", "/auth/token-scopes").json()
    assert "chart:read" in scopes
    created = call(api, "POST", "/auth/tokens", {"comment": "ci", "scopes": ["chart:read"]})
    assert created.status_code == 201
    token = created.json()
    assert call(api, "GET", "/me", token=token["token"]).status_code == 200
    listed = call(api, "GET", "/auth/tokens").json()
    assert listed["total"] == 1
    assert "token" not in listed["list"][0]
    assert call(api, "PUT", f"/auth/tokens/{token['id']}", {"comment": "ci2"}).status_code == 204
    assert api.api_tokens[token["id"]]["comment"] == "ci2"
    assert call(api, "DELETE", f"/auth/tokens/{token['id']}").status_code == 204
    assert_boom(call(api, "GET", "/me", token=token["token"]), 401)
    assert_boom(call(api, "POST", "/auth/tokens", {"scopes": ["everything"]}), 400)


def test_login_tokens(api: FakeDatawrapperAPI) -> None:
    """Login tokens are listed, used once without an API token, and deleted."""
    created = call(api, "POST", "/auth/login-tokens")
    assert created.status_code == 201
    login = created.json()
    assert call(api, "GET", "/auth/login-tokens").json()["total"] == 1
    used = call(api, "GET", f"/auth/login/{login['token']}", token=None)
    assert used.status_code == 302
    assert used.headers["Location"] == "/v3/me"
    assert_boom(call(api, "GET", f"/auth/login/{login['token']}", token=None), 404)
    second = call(api, "POST", "/auth/login-tokens").json()
    assert call(api, "DELETE", f"/auth/login-tokens/{second['id']}").status_code == 204
    assert_boom(call(api, "DELETE", f"/auth/login-tokens/{second['id']}"), 404)


def test_oembed(api: FakeDatawrapperAPI) -> None:
    """oEmbed describes a published chart and honours maxwidth."""
    chart_id = create(api, title="Embed me")["id"]
    url = f"https://datawrapper.dwcdn.net/{chart_id}/1/"
    assert_boom(call(api, "GET", f"/oembed?url={url}"), 404)
    call(api, "POST", f"/charts/{chart_id}/publish")
    body = call(api, "GET", f"/oembed?url={url}&format=json&maxwidth=300&iframe=true").json()
    assert (body["type"], body["title"], body["width"]) == ("rich", "Embed me", 300)
    assert body["html"].startswith("<iframe")
    assert "<script" not in body["html"]
    assert_boom(call(api, "GET", "/oembed?format=json"), 400)


def test_river(api: FakeDatawrapperAPI) -> None:
    """Forkable charts appear in the River and can be described there."""
    chart_id = create(api, forkable=True, title="Share me")["id"]
    hidden = create(api)["id"]
    assert [e["id"] for e in call(api, "GET", "/river").json()["list"]] == [chart_id]
    updated = call(api, "PUT", f"/river/{chart_id}", {"description": "Nice", "tags": ["a"]})
    assert updated.json()["tags"] == ["a"]
    assert call(api, "GET", f"/river/{chart_id}").json()["description"] == "Nice"
    assert_boom(call(api, "GET", f"/river/{hidden}"), 404)


def test_river_byline_and_forkable(api: FakeDatawrapperAPI) -> None:
    """PUT /river takes byline and forkable (a boolean); forkable false takes the chart out."""
    chart_id = create(api, forkable=True, title="Share me")["id"]
    body = {"description": "About", "byline": "By me", "tags": ["t"], "forkable": True}
    updated = call(api, "PUT", f"/river/{chart_id}", body)
    assert updated.status_code == 200
    entry = call(api, "GET", f"/river/{chart_id}").json()
    assert (entry["byline"], entry["description"], entry["forkable"]) == ("By me", "About", True)
    for bad, detail in (
        ({"forkable": "true"}, ("forkable", "boolean.base")),
        ({"byline": 1}, ("byline", "string.base")),
        ({"tags": "t"}, ("tags", "array.base")),
    ):
        error = assert_boom(call(api, "PUT", f"/river/{chart_id}", bad), 400)
        assert error["details"] == [{"path": detail[0], "type": detail[1]}]
    assert call(api, "GET", f"/river/{chart_id}").json() == entry
    gone = call(api, "PUT", f"/river/{chart_id}", {"forkable": False})
    assert gone.json()["forkable"] is False
    assert api.charts[chart_id]["forkable"] is False
    assert_boom(call(api, "GET", f"/river/{chart_id}"), 404)
    assert call(api, "GET", "/river").json()["total"] == 0


# --------------------------------------------------------------------------- concurrency, reset


def test_concurrent_creates_get_unique_ids() -> None:
    """Threads creating charts at once get distinct ids and exact counts."""
    api = FakeDatawrapperAPI()
    ids: list[str] = []
    ids_lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            chart_id = create(api)["id"]
            with ids_lock:
                ids.append(chart_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == len(set(ids)) == 200
    assert api.created_count == 200
    assert len(api.charts) == 200
    assert len(api.log) == 200


def test_reset_restores_initial_state(api: FakeDatawrapperAPI) -> None:
    """reset() forgets charts, folders, logs, counters and token changes."""
    create(api)
    call(api, "POST", "/folders", {"name": "x"})
    api.remove_token("test-token")
    api.reset()
    assert (api.charts, api.folders, api.log, api.created_count) == ({}, {}, [], 0)
    assert call(api, "GET", "/me").status_code == 200
