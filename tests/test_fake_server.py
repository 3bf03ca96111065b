"""Tests of the fault-injecting FakeServer, the FaultScript and the in-process fault handler."""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from datawrapper._exceptions import ReadError, ReadTimeout, RemoteProtocolError, TransportError
from datawrapper.testing import (
    FakeServer,
    Fault,
    FaultScript,
    ReceivedRequest,
    echo_app,
    in_process_handler,
    in_process_transport,
)
from datawrapper.transport import Headers, Request, Response, Timeout


class CountingApp:
    """echo_app that counts its calls, thread-safely."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.calls += 1
        return echo_app(request)


class SleepRecorder:
    """A fake sleep that records the requested durations and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def app() -> CountingApp:
    return CountingApp()


@pytest.fixture
def server(app: CountingApp) -> Iterator[FakeServer]:
    with FakeServer(app) as srv:
        yield srv


def connect(server: FakeServer, timeout: float = 2.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)


def raw_socket(server: FakeServer, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def read_until_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


# --------------------------------------------------------------------------- HTTP basics


def test_keep_alive_serves_two_requests_on_one_connection(server: FakeServer) -> None:
    """Two requests of one session share one connection and both are counted."""
    with requests.Session() as session:
        assert session.get(server.url + "/a", timeout=2).status_code == 200
        assert session.get(server.url + "/b", timeout=2).status_code == 200
    assert server.connections_opened == 1
    assert server.requests_received == 2
    first, second = server.received
    assert first.connection_id == second.connection_id
    assert [first.path, second.path] == ["/a", "/b"]


def test_connection_close_is_honoured(server: FakeServer) -> None:
    """A request with Connection: close gets Connection: close and then EOF."""
    with raw_socket(server) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = read_until_eof(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in data


def test_http10_without_keep_alive_closes_after_response(server: FakeServer) -> None:
    """An HTTP/1.0 request without keep-alive is answered and the connection closed."""
    with raw_socket(server) as sock:
        sock.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        data = read_until_eof(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert server.received[0].http_version == "HTTP/1.0"


def test_chunked_request_body_is_decoded(server: FakeServer) -> None:
    """A chunked upload from requests arrives as the joined body."""
    pieces = [b"alpha,", b"", b"beta,", b"x" * 5000]
    response = requests.post(server.url + "/up", data=iter(pieces), timeout=2)
    assert response.content == b"".join(pieces)
    assert server.received[0].header("transfer-encoding") == "chunked"
    assert server.received[0].body == b"".join(pieces)


def test_raw_chunked_body_with_extensions_and_trailers(server: FakeServer) -> None:
    """Chunk extensions and trailer fields are parsed and the connection stays usable."""
    with raw_socket(server) as sock:
        sock.sendall(
            b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
            b"GET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        )
        data = read_until_eof(sock)
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert [r.body for r in server.received] == [b"hello0123456789", b""]


def test_received_keeps_header_names_values_and_order(server: FakeServer) -> None:
    """ReceivedRequest.headers are the pairs exactly as sent, repeated fields included."""
    with raw_socket(server) as sock:
        sock.sendall(
            b"GET /p?q=1&r=2 HTTP/1.1\r\nHost: h\r\nX-MiXed-Case: A b\r\nx-rep: 1\r\n"
            b"X-Rep: 2\r\nConnection: close\r\n\r\n"
        )
        read_until_eof(sock)
    (received,) = server.received
    assert isinstance(received, ReceivedRequest)
    assert received.headers == (
        ("Host", "h"),
        ("X-MiXed-Case", "A b"),
        ("x-rep", "1"),
        ("X-Rep", "2"),
        ("Connection", "close"),
    )
    assert (received.target, received.path, received.query) == ("/p?q=1&r=2", "/p", "q=1&r=2")


def test_expect_100_continue_is_answered(server: FakeServer) -> None:
    """A client that waits for 100 Continue gets it before sending the body."""
    with raw_socket(server) as sock:
        sock.sendall(
            b"PUT /e HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        conn_data = sock.recv(65536)
    assert conn_data.startswith(b"HTTP/1.1 200 OK")
    assert conn_data.endswith(b"abc")


def test_head_gets_length_but_no_body(server: FakeServer) -> None:
    """A HEAD answer carries the Content-Length of the body but no body bytes."""
    conn = connect(server)
    conn.request("HEAD", "/h", headers={"X-Respond-Body-Size": "10"})
    response = conn.getresponse()
    assert response.getheader("Content-Length") == "10"
    assert response.read() == b""
    conn.request("GET", "/after")  # the connection is still in sync
    assert conn.getresponse().read() == b""
    conn.close()
    assert server.connections_opened == 1


def test_malformed_request_line_gets_400(server: FakeServer) -> None:
    """Garbage instead of a request line is answered with a 400 Boom body."""
    with raw_socket(server) as sock:
        sock.sendall(b"this is not http\r\n\r\n")
        data = read_until_eof(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["statusCode"] == 400


def test_echo_app_is_steered_by_headers() -> None:
    """X-Respond-Status, X-Respond-Body-Size and X-Respond-Header-* shape the echo."""
    request = Request(
        "PUT",
        "https://api.example/v3/x?y=1",
        headers=Headers(
            {
                "X-Respond-Status": "418",
                "X-Respond-Body-Size": "300",
                "X-Respond-Header-Retry-After": "7",
            }
        ),
        content=b"ignored",
    )
    response = echo_app(request)
    assert response.status_code == 418
    assert response.content == bytes(range(256)) + bytes(range(44))
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-Echo-Method"] == "PUT"
    assert response.headers["X-Echo-Path"] == "/v3/x?y=1"


def test_app_exception_answers_500_boom(server: FakeServer) -> None:
    """An application that raises produces a 500 with a Boom JSON body, not a dead socket."""

    def broken(request: Request) -> Response:
        raise KeyError("chart")

    server.app = broken
    response = requests.get(server.url + "/boom", timeout=2)
    assert response.status_code == 500
    body = response.json()
    assert body["statusCode"] == 500
    assert body["error"] == "Internal Server Error"
    assert "KeyError" in body["message"]


def test_app_can_be_swapped_at_runtime(server: FakeServer) -> None:
    """Assigning server.app changes the answers of the running server."""
    server.app = lambda request: Response(201, Headers({"Content-Type": "text/plain"}), b"new app")
    response = requests.get(server.url + "/", timeout=2)
    assert (response.status_code, response.content) == (201, b"new app")


def test_request_url_is_built_from_host_header(server: FakeServer) -> None:
    """The application sees an absolute URL built from the Host header."""
    seen: list[str] = []

    def app(request: Request) -> Response:
        seen.append(request.url)
        return Response(204)

    server.app = app
    conn = connect(server)
    conn.request("GET", "/v3/me?x=1", headers={"Host": "api.datawrapper.de"})
    assert conn.getresponse().status == 204
    conn.close()
    assert seen == ["http://api.datawrapper.de/v3/me?x=1"]


def test_counters_track_concurrent_connections(server: FakeServer) -> None:
    """Three open sockets raise the high-water mark to 3; it survives their close."""
    sockets = [raw_socket(server) for _ in range(3)]
    assert wait_until(lambda: server.open_connections == 3)
    for sock in sockets:
        sock.close()
    assert server.wait_for_idle(2)
    assert (server.open_connections, server.max_concurrent_connections) == (0, 3)
    assert server.connections_opened == 3
    server.reset_counters()
    assert (server.connections_opened, server.max_concurrent_connections, server.received) == (
        0,
        0,
        [],
    )


def test_stop_closes_idle_keep_alive_connections_quickly(app: CountingApp) -> None:
    """stop() returns promptly although a client holds an idle keep-alive connection."""
    server = FakeServer(app).start()
    sock = raw_socket(server)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    server.stop()
    server.stop()  # idempotent
    assert time.monotonic() - started < 2
    try:
        assert sock.recv(10) == b""
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    assert server.open_connections == 0


def test_client_leaving_mid_request_logs_nothing_above_debug(
    server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that disconnects half-way through a request causes only DEBUG log records."""
    caplog.set_level(logging.DEBUG, logger="datawrapper.testing")
    with raw_socket(server) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nonly-part")
    assert wait_until(lambda: server.connections_opened == 1)
    assert server.wait_for_idle(2)
    records = [r for r in caplog.records if r.name == "datawrapper.testing"]
    assert records, "the disconnect should be logged at DEBUG"
    assert all(r.levelno == logging.DEBUG for r in records)
    assert server.requests_received == 0


def test_rtt_delays_first_response_twice(app: CountingApp) -> None:
    """With rtt the first response on a connection waits two rtts, later ones one."""
    with FakeServer(app, rtt=0.08) as server, requests.Session() as session:
        started = time.monotonic()
        session.get(server.url, timeout=2)
        first = time.monotonic() - started
        started = time.monotonic()
        session.get(server.url, timeout=2)
        second = time.monotonic() - started
    assert first >= 0.16
    assert 0.08 <= second < first


# --------------------------------------------------------------------------- faults over sockets


def test_status_fault_answers_boom_json_then_normal(server: FakeServer, app: CountingApp) -> None:
    """A status fault answers a Boom body without calling the app; the next request is normal."""
    server.faults.add(Fault.status(503))
    with requests.Session() as session:
        failed = session.get(server.url + "/v3/me", timeout=2)
        ok = session.get(server.url + "/v3/me", timeout=2)
    assert failed.status_code == 503
    assert failed.headers["Content-Type"].startswith("application/json")
    assert failed.json() == {
        "statusCode": 503,
        "error": "Service Unavailable",
        "message": "Service Unavailable",
    }
    assert ok.status_code == 200
    assert app.calls == 1
    assert server.connections_opened == 1


def test_status_fault_with_html_body(server: FakeServer) -> None:
    """A status fault can send a proxy's HTML page instead of JSON."""
    page = b"<html><body>502 Bad Gateway</body></html>"
    server.faults.add(Fault.status(502, headers={"Content-Type": "text/html"}, body=page))
    response = requests.get(server.url, timeout=2)
    assert (response.status_code, response.content) == (502, page)
    assert response.headers["Content-Type"] == "text/html"


@pytest.mark.parametrize(
    ("value", "header"),
    [
        ("2", "Retry-After"),
        ("garbage", "Retry-After"),
        ("-3", "Retry-After"),
        ("1500", "retry-after-ms"),
    ],
)
def test_rate_limited_sends_header_verbatim(server: FakeServer, value: str, header: str) -> None:
    """Fault.rate_limited answers 429 with the Retry-After value exactly as given."""
    server.faults.add(Fault.rate_limited(value, header=header))
    response = requests.get(server.url, timeout=2)
    assert response.status_code == 429
    assert response.headers[header] == value
    assert response.json()["error"] == "Too Many Requests"


def test_rate_limited_without_value_has_no_header(server: FakeServer) -> None:
    """Fault.rate_limited() with no value sends no Retry-After at all."""
    server.faults.add(Fault.rate_limited())
    response = requests.get(server.url, timeout=2)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_faults_only_hit_matching_method_and_path(server: FakeServer) -> None:
    """A fault scripted for POST /v3/charts leaves a GET and other paths alone."""
    server.faults.add(Fault.status(500), method="post", path=r"^/v3/charts$")
    assert requests.get(server.url + "/v3/charts", timeout=2).status_code == 200
    assert requests.post(server.url + "/v3/charts/abc", timeout=2).status_code == 200
    assert requests.post(server.url + "/v3/charts", timeout=2).status_code == 500
    assert server.faults.pending == 0


def test_delay_with_process_calls_app_although_client_times_out(
    server: FakeServer, app: CountingApp
) -> None:
    """A delay longer than the client's timeout still runs the app first (process=True)."""
    server.faults.add(Fault.delay(0.5))
    conn = connect(server, timeout=0.1)
    conn.request("POST", "/v3/charts", body=b"{}")
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()
    assert app.calls == 1


def test_delay_without_process_skips_app_when_client_left(
    server: FakeServer, app: CountingApp
) -> None:
    """With process=False a client that gave up before the delay ended causes no app call."""
    server.faults.add(Fault.delay(0.3, process=False))
    conn = connect(server, timeout=0.1)
    conn.request("POST", "/v3/charts", body=b"{}")
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()
    assert server.wait_for_idle(2)
    assert app.calls == 0
    assert server.requests_received == 1


def test_delay_then_normal_answer(server: FakeServer, app: CountingApp) -> None:
    """A short delay is waited out and then answered by the app on the same connection."""
    server.faults.add(Fault.delay(0.2, process=False))
    with requests.Session() as session:
        started = time.monotonic()
        response = session.post(server.url + "/d", data=b"late", timeout=2)
        elapsed = time.monotonic() - started
        session.get(server.url, timeout=2)
    assert (response.status_code, response.content) == (200, b"late")
    assert elapsed >= 0.2
    assert app.calls == 2
    assert server.connections_opened == 1


def test_slow_body_sends_headers_first_then_pieces(server: FakeServer) -> None:
    """slow_body sends the headers at once and the body after chunks * chunk_delay seconds."""
    server.faults.add(Fault.slow_body(chunk_delay=0.05, chunks=4))
    conn = connect(server)
    started = time.monotonic()
    conn.request("GET", "/s", headers={"X-Respond-Body-Size": "4000"})
    response = conn.getresponse()
    headers_after = time.monotonic() - started
    body = response.read()
    total = time.monotonic() - started
    conn.close()
    assert body == (bytes(range(256)) * 16)[:4000]
    assert total - headers_after >= 0.15


def test_close_after_headers_gives_incomplete_read(server: FakeServer, app: CountingApp) -> None:
    """close_after_headers sends status and a positive Content-Length, then closes."""
    server.faults.add(Fault.close_after_headers())
    conn = connect(server)
    conn.request("POST", "/v3/charts", body=b"payload")
    response = conn.getresponse()
    assert response.status == 200
    assert int(response.getheader("Content-Length") or 0) > 0
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    assert info.value.partial == b""
    assert app.calls == 1


def test_truncated_body_sends_half(server: FakeServer) -> None:
    """truncated_body announces the real length but sends only half of the body."""
    server.faults.add(Fault.truncated_body())
    conn = connect(server)
    conn.request("GET", "/t", headers={"X-Respond-Body-Size": "1000"})
    response = conn.getresponse()
    assert response.getheader("Content-Length") == "1000"
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    assert len(info.value.partial) == 500


def test_truncated_body_is_cut_short_even_when_empty(server: FakeServer) -> None:
    """An empty body is announced as two bytes, so truncation is always visible."""
    server.faults.add(Fault.truncated_body())
    conn = connect(server)
    conn.request("GET", "/t")
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()


@pytest.mark.parametrize("process", [False, True])
def test_reset_aborts_with_rst(server: FakeServer, app: CountingApp, process: bool) -> None:
    """reset aborts the connection with an RST; the app runs only when process=True."""
    server.faults.add(Fault.reset(process=process))
    with raw_socket(server) as sock:
        sock.sendall(b"POST /v3/charts HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}")
        with pytest.raises(ConnectionResetError):
            sock.recv(65536)
    assert app.calls == (1 if process else 0)


def test_reset_surfaces_as_connection_error_in_requests(server: FakeServer) -> None:
    """requests sees the reset as a ConnectionError, not as a response."""
    server.faults.add(Fault.reset())
    with pytest.raises(requests.ConnectionError):
        requests.post(server.url + "/v3/charts", data=b"{}", timeout=2)


def test_close_before_response_is_clean_eof(server: FakeServer, app: CountingApp) -> None:
    """close_before_response closes with FIN: the client reads EOF, not a reset."""
    server.faults.add(Fault.close_before_response())
    conn = connect(server)
    conn.request("GET", "/x")
    with pytest.raises(http.client.RemoteDisconnected):
        conn.getresponse()
    assert app.calls == 0


# --------------------------------------------------------------------------- TLS


def test_tls_verifies_with_ca_path_and_fails_without() -> None:
    """An HTTPS client trusts the server with ca_path, rejects it without, and the server survives."""
    pytest.importorskip("trustme")
    with FakeServer(tls=True) as server:
        assert server.url.startswith("https://127.0.0.1:")
        ca_path = server.ca_path
        assert Path(ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url, timeout=2)
        response = requests.post(server.url + "/tls", data=b"secret", verify=ca_path, timeout=2)
        assert (response.status_code, response.content) == (200, b"secret")
        assert requests.get(f"https://localhost:{server.port}/", verify=ca_path, timeout=2).ok
        assert server.requests_received == 2
    assert not os.path.exists(ca_path)


def test_tls_without_trustme_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without trustme, tls=True raises an ImportError naming the tls extra."""
    monkeypatch.setitem(sys.modules, "trustme", None)
    with pytest.raises(ImportError, match=r"datawrapper\[tls\]"):
        FakeServer(tls=True).start()


def test_plain_server_has_no_ca_path(server: FakeServer) -> None:
    """Asking a plain-HTTP server for its CA explains that tls=True is needed."""
    with pytest.raises(RuntimeError, match="tls=True"):
        _ = server.ca_path


# --------------------------------------------------------------------------- in-process faults


def make_request(method: str = "POST", path: str = "/v3/charts") -> Request:
    return Request(method, "https://api.datawrapper.de" + path, content=b"{}")


def test_in_process_status_fault_and_normal_answer(app: CountingApp) -> None:
    """Through MockTransport a status fault answers without the app, then the app answers."""
    transport = in_process_transport(app, [Fault.status(503)])
    failed = transport.send(make_request(), timeout=Timeout(1))
    ok = transport.send(make_request(), timeout=Timeout(1))
    assert failed.status_code == 503
    assert failed.json()["statusCode"] == 503
    assert (ok.status_code, ok.content) == (200, b"{}")
    assert app.calls == 1


@pytest.mark.parametrize(("process", "calls"), [(True, 1), (False, 0)])
def test_in_process_delay_beyond_read_timeout_raises(
    app: CountingApp, process: bool, calls: int
) -> None:
    """A delay >= timeout.read sleeps timeout.read and raises ReadTimeout; process decides the app call."""
    sleep = SleepRecorder()
    transport = in_process_transport(app, [Fault.delay(5, process=process)], sleep=sleep)
    request = make_request()
    with pytest.raises(ReadTimeout) as info:
        transport.send(request, timeout=Timeout(10, read=1.5))
    assert sleep.calls == [1.5]
    assert app.calls == calls
    assert info.value.request is request
    assert "fake server" in info.value.message


def test_in_process_short_delay_sleeps_and_answers(app: CountingApp) -> None:
    """A delay below timeout.read sleeps exactly that long and answers normally."""
    sleep = SleepRecorder()
    handler = in_process_handler(app, [Fault.delay(0.5, process=False)], sleep=sleep)
    response = handler(make_request(), timeout=Timeout(1))
    assert response.status_code == 200
    assert sleep.calls == [0.5]
    assert app.calls == 1


def test_in_process_handler_without_timeout_just_sleeps(app: CountingApp) -> None:
    """Called without a timeout the handler waits out any delay and answers."""
    sleep = SleepRecorder()
    handler = in_process_handler(app, [Fault.delay(100)], sleep=sleep)
    assert handler(make_request()).status_code == 200
    assert sleep.calls == [100]


def test_in_process_slow_body(app: CountingApp) -> None:
    """slow_body sleeps once per chunk, or raises ReadTimeout when a chunk outlasts timeout.read."""
    sleep = SleepRecorder()
    script = FaultScript()
    handler = in_process_handler(app, script, sleep=sleep)
    request = Request("GET", "https://x.example/", headers=Headers({"X-Respond-Body-Size": "100"}))
    script.add(Fault.slow_body(chunk_delay=0.25, chunks=3))
    assert len(handler(request, timeout=Timeout(1)).content) == 100
    assert sleep.calls == [0.25, 0.25, 0.25]
    sleep.calls.clear()
    script.add(Fault.slow_body(chunk_delay=2))
    with pytest.raises(ReadTimeout):
        handler(request, timeout=Timeout(1))
    assert sleep.calls == [1.0]


@pytest.mark.parametrize(
    ("fault", "error", "calls"),
    [
        (Fault.close_after_headers(), RemoteProtocolError, 1),
        (Fault.close_after_headers(process=False), RemoteProtocolError, 0),
        (Fault.truncated_body(), RemoteProtocolError, 1),
        (Fault.reset(), ReadError, 0),
        (Fault.reset(process=True), ReadError, 1),
        (Fault.close_before_response(), RemoteProtocolError, 0),
    ],
)
def test_in_process_connection_faults_raise_transport_errors(
    app: CountingApp, fault: Fault, error: type[TransportError], calls: int
) -> None:
    """Each connection fault raises the exception a real backend raises, after the app if process."""
    transport = in_process_transport(app, [fault], sleep=SleepRecorder())
    with pytest.raises(error, match="fake server") as info:
        transport.send(make_request(), timeout=Timeout(1))
    assert type(info.value) is error
    assert app.calls == calls


def test_in_process_app_crash_is_500() -> None:
    """An app that raises answers 500 with a Boom body in-process too."""

    def broken(request: Request) -> Response:
        raise RuntimeError("nope")

    response = in_process_handler(broken)(make_request())
    assert response.status_code == 500
    assert "RuntimeError: nope" in response.json()["message"]


# --------------------------------------------------------------------------- FaultScript and Fault


def test_fault_script_matches_in_order_by_method_and_path() -> None:
    """The first matching entry fires; non-matching entries wait for their request."""
    script = FaultScript()
    a, b, c = Fault.status(500), Fault.status(502), Fault.reset()
    script.add(a, method="post", path=r"^/v3/charts$")
    script.add(b, path=r"/data$")
    script.add(c)
    assert script.next_for("PUT", "/v3/charts/x/data") is b
    assert script.next_for("POST", "/v3/charts") is a
    assert script.next_for("POST", "/v3/charts") is c
    assert script.next_for("POST", "/v3/charts") is None


def test_fault_script_times_pending_and_clear() -> None:
    """times counts down per request; pending and len report what is left; clear empties it."""
    script = FaultScript()
    fault = Fault.rate_limited("1")
    script.add(fault, method="GET", times=2)
    script.add(Fault.status(500), times=3)
    assert (script.pending, len(script)) == (5, 5)
    assert script.next_for("get", "/") is fault
    assert script.next_for("GET", "/") is fault
    assert script.next_for("GET", "/") == Fault.status(500)
    assert script.pending == 2
    script.clear()
    assert script.next_for("GET", "/") is None
    assert len(script) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"times": 0},
        {"times": True},
        {"times": 1.5},
        {"method": 5},
        {"method": "GE T"},
        {"path": "("},
        {"path": 3},
    ],
)
def test_fault_script_rejects_bad_input(kwargs: dict[str, object]) -> None:
    """Bad times, method or path raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=r"FaultScript\.add"):
        FaultScript().add(Fault.reset(), **kwargs)  # type: ignore[arg-type]


def test_fault_script_rejects_non_fault() -> None:
    """Adding something that is not a Fault raises TypeError."""
    with pytest.raises(TypeError, match="needs a Fault"):
        FaultScript().add("reset")  # type: ignore[arg-type]


def test_fault_script_is_thread_safe() -> None:
    """Many threads consuming one entry get exactly `times` faults between them."""
    script = FaultScript()
    script.add(Fault.status(503), times=500)
    hits: list[int] = []

    def worker() -> None:
        count = sum(script.next_for("GET", "/") is not None for _ in range(200))
        hits.append(count)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(hits) == 500
    assert script.pending == 0


@pytest.mark.parametrize(
    "build",
    [
        lambda: Fault.status(99),
        lambda: Fault.status(True),
        lambda: Fault.status(500, body="text"),  # type: ignore[arg-type]
        lambda: Fault.delay(-1),
        lambda: Fault.delay(float("nan")),
        lambda: Fault.slow_body(chunk_delay=0.1, chunks=0),
        lambda: Fault.reset(process="yes"),  # type: ignore[arg-type]
        lambda: Fault.rate_limited(object()),  # type: ignore[arg-type]
    ],
)
def test_fault_constructors_validate(build: object) -> None:
    """Nonsense arguments to the Fault constructors raise ValueError."""
    with pytest.raises(ValueError, match="Fault"):
        build()  # type: ignore[operator]


def test_fault_repr_and_describe_are_readable() -> None:
    """repr looks like the constructor call and describe() says what happens."""
    assert (
        repr(Fault.status(503))
        == "Fault.status(503, headers=[('Content-Type', 'application/json; charset=utf-8')])"
    )
    assert repr(Fault.delay(1.5, process=False)) == "Fault.delay(1.5, process=False)"
    assert repr(Fault.reset()) == "Fault.reset(process=False)"
    assert repr(Fault.slow_body(chunk_delay=0.2)) == "Fault.slow_body(chunk_delay=0.2, chunks=4)"
    assert Fault.rate_limited("2").describe() == "answer 429 Too Many Requests with Retry-After: 2"
    assert "not processed" in Fault.close_before_response().describe()
    assert "TCP RST" in Fault.reset().describe()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


@settings(max_examples=25, deadline=None)
@given(
    body=st.binary(max_size=2000),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
)
def test_any_chunking_round_trips(shared_server: FakeServer, body: bytes, cuts: list[int]) -> None:
    """However a body is split into chunks, the echo returns exactly that body."""
    bounds = sorted({0, len(body), *(c for c in cuts if c <= len(body))})
    pieces = [body[a:b] for a, b in itertools.pairwise(bounds)]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
    with raw_socket(shared_server) as sock:
        sock.sendall(
            b"POST /h HTTP/1.1\r\nHost: h\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
            + encoded
        )
        data = read_until_eof(sock)
    head, _, echoed = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert echoed == body


def test_in_process_head_and_204_carry_no_body() -> None:
    """In-process, HEAD and 204 answers lose any body the app gave, as on the wire."""
    from datawrapper.testing import in_process_transport

    def app(request: Request) -> Response:
        return Response(204 if request.path == "/empty" else 200, content=b"body")

    transport = in_process_transport(app)
    limits = Timeout(1)
    assert transport.send(Request("HEAD", "http://x.test/a"), timeout=limits).content == b""
    assert transport.send(Request("GET", "http://x.test/empty"), timeout=limits).content == b""
    assert transport.send(Request("GET", "http://x.test/a"), timeout=limits).content == b"body"
