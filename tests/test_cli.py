"""The ``datawrapper`` command: every subcommand against the fake API on loopback.

Most tests run ``main(argv)`` in-process against a :class:`FakeServer` serving a
:class:`FakeDatawrapperAPI`, with ``DATAWRAPPER_BASE_URL`` and the token set through the
environment. A few run the real command in a subprocess: ``--help``, a small demo, the fake
server until Ctrl-C, and a bulk job interrupted with Ctrl-C.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import datawrapper as dw
from datawrapper import _cli, _demo
from datawrapper._cli import ERROR_TABLE, main, parse_rate
from datawrapper.testing import FakeDatawrapperAPI, FakeServer, Fault

TOKEN = "tok-cli-S3cr3t-9f8e7d6c5b"
WRONG_TOKEN = "tok-wrong-Xy7Qp2Lm9Zr4"
CSV = b"country,value\nFrance,1.5\nGermany,2.25\nSpain,3\n"
SRC = str(Path(__file__).resolve().parents[1] / "src")


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def api() -> FakeDatawrapperAPI:
    return FakeDatawrapperAPI(tokens=[TOKEN])


@pytest.fixture
def server(api: FakeDatawrapperAPI) -> Iterator[FakeServer]:
    with FakeServer(api) as srv:
        yield srv


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, server: FakeServer) -> FakeServer:
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATAWRAPPER_BASE_URL", server.url)
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", TOKEN)
    return server


Cli = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def make_chart(api: FakeDatawrapperAPI, title: str = "Existing") -> str:
    """A chart created directly in the fake API (no CLI), with data."""
    client = dw.Datawrapper(TOKEN, transport=dw.MockTransport(api), base_url="http://fake")
    with client:
        chart = client.create_chart(title=title, chart_type="d3-bars", data=CSV)
    return str(chart["id"])


def error_line(run: Run) -> str:
    """The single stderr line of a failed command (asserting it is one line)."""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("datawrapper: error: ")
    return lines[0]


# --------------------------------------------------------------------------- help and usage


def test_top_level_help_lists_commands_and_exit_codes(cli: Cli) -> None:
    """--help exits 0 and names every command, the token variable and the exit codes."""
    run = cli("--help")
    assert run.code == 0
    for word in ("demo", "charts", "bulk", "fake-server", "DATAWRAPPER_ACCESS_TOKEN", "130"):
        assert word in run.out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["charts"],
        ["charts", "create"],
        ["charts", "publish"],
        ["charts", "export"],
        ["charts", "get"],
        ["charts", "list"],
        ["charts", "delete"],
        ["bulk"],
        ["fake-server"],
    ],
)
def test_every_command_has_help(cli: Cli, argv: list[str]) -> None:
    """Every command and action answers --help with its own usage line and exits 0."""
    run = cli(*argv, "--help")
    assert run.code == 0
    assert run.out.startswith(f"usage: datawrapper {' '.join(argv)}")
    assert "--base-url" in run.out  # the global options are accepted after the command too


def test_no_command_prints_help_and_exits_2(cli: Cli) -> None:
    """Running without a command shows the usage on stderr and exits 2."""
    run = cli()
    assert run.code == 2
    assert "usage: datawrapper" in run.err


def test_charts_without_action_exits_2(cli: Cli) -> None:
    """`datawrapper charts` alone lists the actions and exits 2."""
    run = cli("charts")
    assert run.code == 2
    assert "create" in run.err and "export" in run.err


def test_bad_option_is_a_usage_error(cli: Cli) -> None:
    """An unknown backend is refused by the parser with exit code 2."""
    run = cli("--backend", "curl", "charts", "list")
    assert run.code == 2
    assert "invalid choice: 'curl'" in run.err


def test_version(cli: Cli) -> None:
    """--version prints the package version."""
    run = cli("--version")
    assert run.code == 0
    assert dw.__version__ in run.out


# --------------------------------------------------------------------------- charts


def test_create_uploads_the_file_and_names_the_chart_after_it(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """charts create makes one chart titled after the file, with the file's bytes as data."""
    path = tmp_path / "sales-2024.csv"
    path.write_bytes(CSV)
    run = cli("charts", "create", str(path), "--type", "d3-lines")
    assert run.code == 0, run.err
    assert api.created_count == 1
    (chart_id,) = api.charts
    assert run.out.startswith(f"created {chart_id} 'sales-2024' (d3-lines)")
    assert api.charts[chart_id]["title"] == "sales-2024"
    assert api.charts[chart_id]["type"] == "d3-lines"
    assert api.chart_data[chart_id][0] == CSV


def test_create_publish_and_export_writes_the_png(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """--publish --export png -o writes a PNG file and the chart is published once."""
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    out = tmp_path / "chart.png"
    run = cli(
        "charts", "create", str(path), "--title", "Sales", "--publish",
        "--export", "png", "-o", str(out), "--width", "300",
    )  # fmt: skip
    assert run.code == 0, run.err
    (chart_id,) = api.charts
    assert api.charts[chart_id]["publicVersion"] == 1
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"published {chart_id}: https://" in run.out
    assert f"to {out}" in run.out
    export = [r for r in api.log if "/export/" in r.path]
    assert export[0].query.get("width") == "300"


def test_create_infers_the_export_format_from_the_file_name(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """-o chart.svg without --export exports SVG."""
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    out = tmp_path / "chart.svg"
    run = cli("charts", "create", str(path), "-o", str(out))
    assert run.code == 0, run.err
    assert b"<svg" in out.read_bytes()


def test_create_refuses_an_output_without_a_format_before_any_request(
    cli: Cli, env: FakeServer, tmp_path: Path
) -> None:
    """-o chart.txt cannot say the format: exit 2 and nothing is sent."""
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    run = cli("charts", "create", str(path), "-o", str(tmp_path / "chart.txt"))
    assert run.code == 2
    assert "--export png|pdf|svg" in error_line(run)
    assert env.requests_received == 0


def test_create_json_output(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """--json prints one JSON object with the id and the public URL."""
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    run = cli("charts", "create", str(path), "--publish", "--json")
    assert run.code == 0, run.err
    result = json.loads(run.out)
    assert result["id"] in api.charts
    assert result["public_url"].startswith("https://")


def test_create_reads_stdin(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FILE - reads the CSV from standard input."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(CSV)))
    run = cli("charts", "create", "-", "--title", "From stdin")
    assert run.code == 0, run.err
    (chart_id,) = api.charts
    assert api.chart_data[chart_id][0] == CSV


@pytest.mark.parametrize("content", [None, b"  \n"])
def test_create_with_missing_or_empty_file_exits_2(
    cli: Cli, env: FakeServer, tmp_path: Path, content: bytes | None
) -> None:
    """A missing or blank CSV file is one error line, exit 2, and no request."""
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    run = cli("charts", "create", str(path))
    assert run.code == 2
    assert str(path) in error_line(run)
    assert env.requests_received == 0


def test_publish_prints_the_public_url(cli: Cli, env: FakeServer, api: FakeDatawrapperAPI) -> None:
    """charts publish bumps the public version and prints the URL."""
    chart_id = make_chart(api)
    run = cli("charts", "publish", chart_id)
    assert run.code == 0, run.err
    assert api.charts[chart_id]["publicVersion"] == 1
    assert run.out.strip() == f"published {chart_id}: https://datawrapper.dwcdn.net/{chart_id}/1/"


@pytest.mark.parametrize(("fmt", "magic"), [("pdf", b"%PDF"), ("png", b"\x89PNG"), ("svg", b"<")])
def test_export_writes_the_file(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path, fmt: str, magic: bytes
) -> None:
    """charts export writes the exported bytes of the asked format to -o."""
    chart_id = make_chart(api)
    out = tmp_path / f"out.{fmt}"
    run = cli("charts", "export", chart_id, "--format", fmt, "-o", str(out), "--transparent")
    assert run.code == 0, run.err
    assert out.read_bytes().startswith(magic)
    export = [r for r in api.log if "/export/" in r.path]
    assert export[0].path.endswith(f"/export/{fmt}")
    assert export[0].query.get("transparent") == "true"


def test_export_default_file_name(
    cli: Cli,
    env: FakeServer,
    api: FakeDatawrapperAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without -o the export is written to ID.FORMAT in the current directory."""
    chart_id = make_chart(api)
    monkeypatch.chdir(tmp_path)
    run = cli("charts", "export", chart_id)
    assert run.code == 0, run.err
    assert (tmp_path / f"{chart_id}.png").read_bytes().startswith(b"\x89PNG")


def test_export_to_stdout(
    env: FakeServer, api: FakeDatawrapperAPI, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """-o - writes the raw bytes to standard output and nothing else."""
    chart_id = make_chart(api)
    code = main(["charts", "export", chart_id, "--format", "pdf", "-o", "-"])
    captured = capsysbinary.readouterr()
    assert code == 0
    assert captured.out.startswith(b"%PDF")


def test_get_prints_the_chart_json(cli: Cli, env: FakeServer, api: FakeDatawrapperAPI) -> None:
    """charts get prints the chart as JSON."""
    chart_id = make_chart(api, "Shown")
    run = cli("charts", "get", chart_id)
    assert run.code == 0, run.err
    chart = json.loads(run.out)
    assert chart["id"] == chart_id
    assert chart["title"] == "Shown"


def test_list_prints_a_table_and_json(cli: Cli, env: FakeServer, api: FakeDatawrapperAPI) -> None:
    """charts list shows every chart as a row; --json gives the same charts as JSON."""
    ids = {make_chart(api, "First"), make_chart(api, "Second")}
    run = cli("charts", "list")
    assert run.code == 0, run.err
    lines = run.out.strip().splitlines()
    assert lines[0].split() == ["ID", "TYPE", "PUBLISHED", "TITLE"]
    assert {line.split()[0] for line in lines[2:]} == ids
    assert "First" in run.out and "Second" in run.out
    as_json = cli("charts", "list", "--json")
    assert {c["id"] for c in json.loads(as_json.out)} == ids


def test_list_when_there_are_no_charts(cli: Cli, env: FakeServer) -> None:
    """An empty account prints 'no charts'."""
    run = cli("charts", "list")
    assert run.code == 0
    assert run.out.strip() == "no charts"


def test_delete(cli: Cli, env: FakeServer, api: FakeDatawrapperAPI) -> None:
    """charts delete deletes the chart; getting it afterwards is a 404 (exit 4)."""
    chart_id = make_chart(api)
    run = cli("charts", "delete", chart_id)
    assert run.code == 0, run.err
    assert run.out.strip() == f"deleted {chart_id}"
    assert api.charts[chart_id]["deleted"] is True
    assert cli("charts", "get", chart_id).code == 4


# --------------------------------------------------------------------------- errors


def test_missing_token_exits_2_before_any_request(
    cli: Cli, env: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a token the command says how to set one, exits 2, and sends nothing."""
    monkeypatch.delenv("DATAWRAPPER_ACCESS_TOKEN")
    run = cli("charts", "list")
    assert run.code == 2
    line = error_line(run)
    assert "DATAWRAPPER_ACCESS_TOKEN" in line and "--token-file" in line
    assert env.requests_received == 0


def test_rejected_token_exits_3(cli: Cli, env: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 401 is one line naming the check to make, exit 3, and the token is not shown."""
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", WRONG_TOKEN)
    run = cli("charts", "list")
    assert run.code == 3
    line = error_line(run)
    assert "401" in line and "GET /v3/charts" in line
    assert WRONG_TOKEN not in run.out + run.err


def test_forbidden_exits_3(cli: Cli, env: FakeServer) -> None:
    """A 403 is a permission error with exit 3."""
    env.faults.add(Fault.status(403), method="GET")
    run = cli("charts", "list")
    assert run.code == 3
    assert "403 Forbidden" in error_line(run)


def test_not_found_exits_4(cli: Cli, env: FakeServer) -> None:
    """A chart that does not exist is a 404: exit 4, one line with the path."""
    run = cli("charts", "get", "abcde")
    assert run.code == 4
    assert "not found: GET /v3/charts/abcde answered 404" in error_line(run)


def test_invalid_chart_id_exits_2_without_a_request(cli: Cli, env: FakeServer) -> None:
    """An id that cannot be a Datawrapper id is refused before any network traffic."""
    run = cli("charts", "publish", "not-an-id")
    assert run.code == 2
    assert "invalid chart id" in error_line(run)
    assert env.requests_received == 0


def test_rate_limited_says_the_wait_and_exits_5(cli: Cli, env: FakeServer) -> None:
    """A 429 asking for longer than the client waits is exit 5 with the wait asked."""
    env.faults.add(Fault.rate_limited("120"), method="GET")
    run = cli("charts", "list")
    assert run.code == 5
    line = error_line(run)
    assert "rate limited" in line and "asked to wait 120 s" in line
    assert env.requests_received == 1


def test_rate_limit_with_a_short_wait_is_absorbed(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI
) -> None:
    """A 429 with Retry-After: 0 is retried and the command succeeds."""
    chart_id = make_chart(api)
    env.faults.add(Fault.rate_limited("0"), method="POST")
    run = cli("charts", "publish", chart_id)
    assert run.code == 0, run.err
    assert env.requests_received == 2


def test_server_error_exits_7(cli: Cli, env: FakeServer) -> None:
    """A 503 with retries switched off is a server error, exit 7."""
    env.faults.add(Fault.status(503), method="GET")
    run = cli("--max-retries", "0", "charts", "list")
    assert run.code == 7
    assert "503 Service Unavailable" in error_line(run)


def test_other_status_exits_1(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """A 400 from the API (an unknown chart type) is exit 1 with the API's message."""
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    run = cli("charts", "create", str(path), "--type", "no-such-type")
    assert run.code == 1
    assert "400" in error_line(run)


def test_unreachable_host_exits_6(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A closed port is 'cannot reach', exit 6."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", TOKEN)
    run = cli("--base-url", f"http://127.0.0.1:{port}", "--max-retries", "0", "charts", "list")
    assert run.code == 6
    assert f"cannot reach 127.0.0.1:{port}" in error_line(run)


def test_tls_needs_the_ca_bundle(
    cli: Cli, api: FakeDatawrapperAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HTTPS server with a private CA fails with a TLS error (exit 6) until --ca-bundle."""
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", TOKEN)
    with FakeServer(api, tls=True) as srv:
        run = cli("--base-url", srv.url, "charts", "list")
        assert run.code == 6
        assert "--ca-bundle" in error_line(run)
        ok = cli("--base-url", srv.url, "--ca-bundle", srv.ca_path, "charts", "list")
        assert ok.code == 0, ok.err


def test_verbose_adds_attempts_and_traceback(cli: Cli, env: FakeServer) -> None:
    """--verbose keeps the error line first and adds the attempt history and traceback."""
    run = cli("charts", "get", "abcde", "--verbose")
    assert run.code == 4
    lines = run.err.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("datawrapper: error:"))
    detail = "\n".join(lines[first + 1 :])
    assert "attempt 1: GET" in detail
    assert "Traceback" in detail and "NotFoundError" in detail


@pytest.mark.parametrize("backend", ["requests", "httpx", "urllib3"])
def test_token_never_printed_even_when_verbose(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path, backend: str
) -> None:
    """The token appears in no output of a verbose session, failures included, on any backend."""
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    runs = [
        cli("--verbose", "--backend", backend, "charts", "create", str(path), "--publish",
            "--export", "png", "-o", str(tmp_path / "x.png")),
        cli("--verbose", "--backend", backend, "charts", "list"),
        cli("--verbose", "--backend", backend, "charts", "get", "abcde"),
    ]  # fmt: skip
    env.faults.add(Fault.status(503), method="GET")
    runs.append(cli("-v", "--backend", backend, "--max-retries", "0", "charts", "list"))
    assert [r.code for r in runs] == [0, 0, 4, 7]
    everything = "".join(r.out + r.err for r in runs)
    assert "DEBUG" in everything  # verbose logging was on
    assert TOKEN not in everything


def test_token_file(
    cli: Cli, env: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--token-file supplies the token (first non-empty line) instead of the environment."""
    monkeypatch.delenv("DATAWRAPPER_ACCESS_TOKEN")
    token_file = tmp_path / "token"
    token_file.write_text(f"\n  {TOKEN}  \n")
    run = cli("--verbose", "--token-file", str(token_file), "charts", "list")
    assert run.code == 0, run.err
    assert TOKEN not in run.out + run.err


@pytest.mark.parametrize("content", [None, "\n \n"])
def test_bad_token_file_exits_2(
    cli: Cli, env: FakeServer, tmp_path: Path, content: str | None
) -> None:
    """A missing or empty --token-file is one error line naming the file, exit 2."""
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    run = cli("--token-file", str(token_file), "charts", "list")
    assert run.code == 2
    assert str(token_file) in error_line(run)
    assert env.requests_received == 0


def test_error_table_has_no_unreachable_rule() -> None:
    """Each rule of the error table is for a class no earlier rule already catches."""
    for index, rule in enumerate(ERROR_TABLE):
        for earlier in ERROR_TABLE[:index]:
            assert not issubclass(rule.exc_type, earlier.exc_type), (rule, earlier)


def test_every_exit_code_of_the_table_is_documented() -> None:
    """Every exit code the error table can return is described in EXIT_CODES (shown by --help)."""
    assert {rule.exit_code for rule in ERROR_TABLE} <= set(_cli.EXIT_CODES)


# --------------------------------------------------------------------------- bulk


def csv_dir(tmp_path: Path, count: int) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    for index in range(count):
        (directory / f"file{index}.csv").write_bytes(CSV + f"Extra,{index}\n".encode())
    (directory / "notes.txt").write_text("not a csv")
    return directory


def last_records(path: Path) -> dict[str, dict[str, object]]:
    records: dict[str, dict[str, object]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        records[record["file"]] = record
    return records


def test_bulk_creates_one_chart_per_csv_and_records_each(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """bulk makes one chart per CSV with its data, and the results file maps file -> chart."""
    directory = csv_dir(tmp_path, 5)
    run = cli("bulk", str(directory), "--type", "d3-lines", "--workers", "3", "--publish")
    assert run.code == 0, run.err
    assert "5 done now" in run.out
    assert api.created_count == 5
    records = last_records(directory / ".datawrapper-results.jsonl")
    assert set(records) == {f"file{i}.csv" for i in range(5)}
    for name, record in records.items():
        chart_id = str(record["chart_id"])
        assert record["status"] == "ok" and record["published"] is True
        assert record["url"] == f"https://datawrapper.dwcdn.net/{chart_id}/1/"
        assert api.charts[chart_id]["title"] == name.removesuffix(".csv")
        assert api.chart_data[chart_id][0] == (directory / name).read_bytes()


def test_bulk_rerun_skips_files_already_done(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """Running the same bulk command twice creates no second chart."""
    directory = csv_dir(tmp_path, 3)
    assert cli("bulk", str(directory)).code == 0
    requests_after_first = env.requests_received
    again = cli("bulk", str(directory))
    assert again.code == 0
    assert "nothing to do" in again.out
    assert api.created_count == 3
    assert env.requests_received == requests_after_first


def test_bulk_resumes_a_half_done_file_without_a_second_chart(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """A file whose chart was created but whose upload failed is finished on the re-run."""
    directory = csv_dir(tmp_path, 2)
    env.faults.add(Fault.status(500), method="PUT", path="/data$")
    first = cli("--max-retries", "0", "bulk", str(directory), "--workers", "1")
    assert first.code == 1
    assert "1 failed" in first.out
    assert "failed: file0.csv" in first.err
    records = last_records(directory / ".datawrapper-results.jsonl")
    assert records["file0.csv"]["status"] == "failed"
    assert records["file0.csv"]["step"] == "upload"
    half_done = str(records["file0.csv"]["chart_id"])
    assert api.created_count == 2

    second = cli("bulk", str(directory))
    assert second.code == 0, second.err
    assert "1 done now, 1 already done" in second.out
    assert api.created_count == 2  # no duplicate chart
    assert (
        last_records(directory / ".datawrapper-results.jsonl")["file0.csv"]["chart_id"] == half_done
    )
    assert api.chart_data[half_done][0] == (directory / "file0.csv").read_bytes()


def test_bulk_publish_later_publishes_without_recreating(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """Files done without --publish are published (not re-created) by a run with --publish."""
    directory = csv_dir(tmp_path, 2)
    assert cli("bulk", str(directory)).code == 0
    run = cli("bulk", str(directory), "--publish")
    assert run.code == 0, run.err
    assert api.created_count == 2
    assert all(chart["publicVersion"] == 1 for chart in api.charts.values())


def test_bulk_stops_at_a_rejected_token(
    cli: Cli,
    env: FakeServer,
    api: FakeDatawrapperAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 401 stops the job (exit 3) instead of failing every file the same way."""
    directory = csv_dir(tmp_path, 6)
    monkeypatch.setenv("DATAWRAPPER_ACCESS_TOKEN", WRONG_TOKEN)
    run = cli("bulk", str(directory), "--workers", "1")
    assert run.code == 3
    assert env.requests_received == 1
    assert "5 not started" in run.out
    assert run.err.strip().splitlines()[-1].startswith("datawrapper: error: authentication failed")


def test_bulk_ignores_a_torn_results_line(
    cli: Cli, env: FakeServer, api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """A results line cut short by a crash is ignored with a note, and that file is redone."""
    directory = csv_dir(tmp_path, 1)
    results = tmp_path / "results.jsonl"
    results.write_text('{"file": "file0.csv", "status": "o')
    run = cli("bulk", str(directory), "--results", str(results))
    assert run.code == 0, run.err
    assert "ignored 1 unreadable line" in run.err
    assert last_records_tolerant(results)["file0.csv"]["status"] == "ok"
    assert not (directory / ".datawrapper-results.jsonl").exists()


def last_records_tolerant(path: Path) -> dict[str, dict[str, object]]:
    records: dict[str, dict[str, object]] = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        records[record["file"]] = record
    return records


def test_bulk_progress_bar(cli: Cli, env: FakeServer, tmp_path: Path) -> None:
    """--progress draws a bar on stderr that reaches the number of files."""
    directory = csv_dir(tmp_path, 3)
    run = cli("bulk", str(directory), "--progress")
    assert run.code == 0, run.err
    assert "3/3" in run.err
    assert "3/3" not in run.out


def test_progress_without_tqdm(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without tqdm the progress is a counter line that also counts failures."""
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    with _cli.Progress(2, "charts", enabled=True) as progress:
        progress.update()
        progress.update(failed=True)
    err = capsys.readouterr().err
    assert err.endswith("charts: 2/2, 1 failed\n")


def test_verbose_logging_is_undone_after_the_command(cli: Cli, env: FakeServer) -> None:
    """--verbose adds its handler and level for one command only."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    assert cli("-v", "charts", "list").code == 0
    assert root.handlers == handlers
    assert root.level == level


@pytest.mark.parametrize("make", ["missing", "no-csv"])
def test_bulk_bad_directory_exits_2(cli: Cli, env: FakeServer, tmp_path: Path, make: str) -> None:
    """A directory that does not exist or holds no CSV is one error line, exit 2."""
    directory = tmp_path / "data"
    if make == "no-csv":
        directory.mkdir()
        (directory / "a.txt").write_text("x")
    run = cli("bulk", str(directory))
    assert run.code == 2
    assert str(directory) in error_line(run)


# --------------------------------------------------------------------------- fake-server


@pytest.mark.parametrize(
    ("text", "rate"), [("10", 10.0), ("10/s", 10.0), ("2.5/sec", 2.5), ("600/min", 10.0)]
)
def test_parse_rate(text: str, rate: float) -> None:
    """--rate-limit accepts plain numbers, per second and per minute."""
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("text", ["", "fast", "0", "-1/s", "10/h"])
def test_parse_rate_rejects_garbage(text: str) -> None:
    """A rate that is not a positive number per second or minute is refused."""
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="requests per second"):
        parse_rate(text)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAWRAPPER_")}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 20.0) -> str:
    """Lines of ``proc``'s stdout up to the one containing ``marker`` (bounded in time)."""
    assert proc.stdout is not None
    lines: list[str] = []
    found = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if marker in line:
                found.set()
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    assert found.is_set(), f"no {marker!r} within {timeout} s; got {''.join(lines)!r}"
    return "".join(lines)


@pytest.mark.parametrize("tls", [False, True])
def test_fake_server_serves_until_ctrl_c(tls: bool) -> None:
    """fake-server prints its URL and token, serves the API, and stops cleanly on SIGINT."""
    argv = [sys.executable, "-m", "datawrapper", "fake-server", "--token", "my-fake-token"]
    if tls:
        argv.append("--tls")
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env()
    )
    try:
        banner = read_until(proc, "press Ctrl-C")
        url = next(line.split()[-1] for line in banner.splitlines() if "listening on" in line)
        assert "DATAWRAPPER_ACCESS_TOKEN=my-fake-token" in banner
        verify: bool | str = True
        if tls:
            verify = next(line.split()[-1] for line in banner.splitlines() if "CA file:" in line)
        with dw.Datawrapper("my-fake-token", base_url=url, verify=verify) as client:
            chart = client.create_chart(title="Over the wire", data=CSV)
            assert client.get_chart(chart["id"])["title"] == "Over the wire"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped after 3 requests" in out
    assert "Traceback" not in err


def test_fake_server_rate_limit() -> None:
    """fake-server --rate-limit answers 429 with Retry-After once the burst is spent."""
    argv = [sys.executable, "-m", "datawrapper", "fake-server", "--rate-limit", "1/min"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env()
    )
    try:
        banner = read_until(proc, "press Ctrl-C")
        url = next(line.split()[-1] for line in banner.splitlines() if "listening on" in line)
        assert "rate limit 0.0166667/s, burst 1" in banner
        with dw.Datawrapper("fake-token", base_url=url, max_retries=0) as client:
            client.get_charts()
            with pytest.raises(dw.RateLimitError) as caught:
                client.get_charts()
        assert caught.value.retry_after is not None and caught.value.retry_after > 50
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err


@pytest.mark.parametrize(
    "argv", [["--port", "70000"], ["--rtt-ms", "-5"], ["--rate-limit", "5", "--burst", "0"]]
)
def test_fake_server_refuses_bad_options(cli: Cli, argv: list[str]) -> None:
    """Out-of-range fake-server options are one error line with exit 2, before listening."""
    run = cli("fake-server", *argv)
    assert run.code == 2
    assert argv[-2] in error_line(run)


# --------------------------------------------------------------------------- end to end


def test_python_m_datawrapper_help() -> None:
    """`python -m datawrapper --help` works as a real process."""
    done = subprocess.run(
        [sys.executable, "-m", "datawrapper", "--help"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: datawrapper")


def test_small_demo_end_to_end() -> None:
    """A small demo prints the four-row table and the pooled client loses no chart."""
    done = subprocess.run(
        [sys.executable, "-m", "datawrapper", "demo", "--charts", "4", "--rtt-ms", "5",
         "--workers", "2"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.split()[-1:] and line.endswith("/4")]
    assert [row.split()[0] for row in rows] == [
        "community",
        "community",
        "datawrapper",
        "datawrapper",
    ]
    assert rows[2].endswith(" 0/4") and rows[3].endswith(" 0/4")
    assert "lost 0." in " ".join(done.stdout.split())


def test_demo_measures_what_it_claims() -> None:
    """run_demo: the community way opens a connection per request and loses the 503'd charts;
    the pooled client serially uses one connection and loses nothing."""
    report = _demo.run_demo(charts=3, rtt=0.0, workers=2)
    community_serial, community_threads, ours_serial, ours_threads = report.rows
    for row in (community_serial, community_threads):
        assert row.connections == row.requests
        assert row.failures == _demo.UPLOAD_FAULTS
        assert row.retries == 0
    assert ours_serial.connections == 1
    assert ours_serial.retries >= _demo.UPLOAD_FAULTS
    assert ours_threads.connections <= 2
    assert report.ours_failed == 0
    text = _demo.render_report(report)
    assert "429s absorbed" in text and "lost 0." in " ".join(text.split())


@pytest.mark.parametrize("argv", [["--charts", "0"], ["--workers", "0"], ["--rtt-ms", "-1"]])
def test_demo_refuses_bad_sizes(cli: Cli, argv: list[str]) -> None:
    """demo options out of range are one error line with exit 2."""
    run = cli("demo", *argv)
    assert run.code == 2
    assert argv[0] in error_line(run)


def test_bulk_ctrl_c_finishes_in_flight_files_and_rerun_completes(
    api: FakeDatawrapperAPI, tmp_path: Path
) -> None:
    """Ctrl-C during bulk exits 130 after the in-flight file is recorded; re-running
    finishes the rest with exactly one chart per file."""
    directory = csv_dir(tmp_path, 8)
    results = directory / ".datawrapper-results.jsonl"
    with FakeServer(api, rtt=0.15) as srv:
        env = subprocess_env(DATAWRAPPER_BASE_URL=srv.url, DATAWRAPPER_ACCESS_TOKEN=TOKEN)
        argv = [sys.executable, "-m", "datawrapper", "bulk", str(directory), "--workers", "1"]
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if results.exists() and '"status":"ok"' in results.read_text():
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 130, err
        assert "interrupted" in err
        assert "Traceback" not in err
        records = last_records(results)
        assert 1 <= len(records) < 8
        assert all(record["status"] == "ok" for record in records.values())

        again = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert again.returncode == 0, again.stderr
    assert api.created_count == 8
    final = last_records(results)
    assert len({record["chart_id"] for record in final.values()}) == 8
