"""Conformance: ``verify=`` means the same on every backend, and an explicit value wins over
the environment (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE).

The HTTPS fake server's certificate is signed by a throw-away CA (``tls_server.ca_path``);
the environment variables point at the system trust store, which does not know that CA.
"""

from __future__ import annotations

import contextlib
import re
import warnings

import certifi
import pytest
from _conformance import (
    BACKENDS,
    INSECURE_WARNING_PER_REQUEST,
    EventRecorder,
    SleepRecorder,
    make_client,
    settle,
)
from urllib3.exceptions import InsecureRequestWarning

from datawrapper._exceptions import TLSError
from datawrapper.testing import FakeServer
from datawrapper.transport import Request, Timeout, create_transport

ENV_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def system_trust_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every CA-bundle environment variable at the system (certifi) bundle."""
    bundle = certifi.where()
    for name in ENV_VARS:
        monkeypatch.setenv(name, bundle)
    return bundle


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_with_the_ca_path_wins_over_the_environment(
    tls_server: FakeServer, system_trust_env: str, backend: str
) -> None:
    """verify=<CA file> trusts the server even though the environment names another bundle,
    and sequential calls share one TLS connection."""
    opened = tls_server.connections_opened
    with contextlib.closing(create_transport(backend, verify=tls_server.ca_path)) as transport:
        for _ in range(3):
            response = transport.send(
                Request("GET", tls_server.url + "/secure"), timeout=Timeout(5)
            )
            assert response.status_code == 200
    settle(tls_server)
    assert tls_server.connections_opened - opened == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_default_verify_refuses_an_unknown_ca(
    tls_server: FakeServer, system_trust_env: str, backend: str
) -> None:
    """With verify=True and the system trust store, the handshake fails with TLSError,
    nothing reaches the server, and the client does not retry (repeating cannot help)."""
    received = tls_server.requests_received
    sleeps, events = SleepRecorder(), EventRecorder()
    with (
        make_client(backend, tls_server, max_retries=3, sleep=sleeps, hooks=events) as client,
        pytest.raises(TLSError) as info,
    ):
        client.request("POST", "/secure", json={"a": 1})
    settle(tls_server)
    assert info.value.request_sent is False
    assert info.value.outcome_unknown is False
    assert events.attempts == 1
    assert sleeps.calls == []
    assert tls_server.requests_received == received


@pytest.mark.parametrize("backend", BACKENDS)
def test_explicit_bundle_wins_over_an_environment_that_would_work(
    tls_server: FakeServer, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """When the environment names the right CA but verify= names another bundle, the
    explicit bundle is used (and fails); verify=True uses the environment (and works)."""
    for name in ENV_VARS:
        monkeypatch.setenv(name, tls_server.ca_path)
    with (
        contextlib.closing(create_transport(backend, verify=certifi.where())) as transport,
        pytest.raises(TLSError),
    ):
        transport.send(Request("GET", tls_server.url + "/secure"), timeout=Timeout(5))
    with contextlib.closing(create_transport(backend, verify=True)) as transport:
        response = transport.send(Request("GET", tls_server.url + "/secure"), timeout=Timeout(5))
    settle(tls_server)
    assert response.status_code == 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_false_accepts_any_certificate(
    tls_server: FakeServer, system_trust_env: str, backend: str
) -> None:
    """verify=False talks to the server whatever its certificate. requests and urllib3 also
    warn (InsecureRequestWarning) on every such request, httpx does not: documented."""
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.closing(create_transport(backend, verify=False)) as transport,
    ):
        warnings.simplefilter("always")
        responses = [
            transport.send(Request("GET", tls_server.url + "/secure"), timeout=Timeout(5))
            for _ in range(2)
        ]
    settle(tls_server)
    assert [r.status_code for r in responses] == [200, 200]
    insecure = [w for w in caught if issubclass(w.category, InsecureRequestWarning)]
    assert len(insecure) == (2 if INSECURE_WARNING_PER_REQUEST[backend] else 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_ca_file_is_refused_at_construction(backend: str, tmp_path: object) -> None:
    """verify= naming a file that does not exist fails at once, on every backend, naming it."""
    missing = f"{tmp_path}/no-such-ca.pem"
    with pytest.raises(ValueError, match=re.escape("no-such-ca.pem")) as info:
        create_transport(backend, verify=missing)
    assert "verify" in str(info.value)
