"""Fixtures of the conformance suite: long-lived fake servers shared by the examples.

Hypothesis runs many examples per test function, so the servers are session-scoped and each
example starts with :func:`_conformance.reset_server` (faults cleared, app replaced) and ends
with :func:`_conformance.settle` (no connection left open). Counters are compared as deltas.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from datawrapper.testing import FakeDatawrapperAPI, FakeServer


@pytest.fixture(scope="session")
def server() -> Iterator[FakeServer]:
    """A plain-HTTP FakeServer running echo_app (tests may swap the app and script faults)."""
    with FakeServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def tls_server() -> Iterator[FakeServer]:
    """An HTTPS FakeServer whose certificate is signed by a throw-away CA (``ca_path``)."""
    with FakeServer(tls=True) as srv:
        yield srv


@pytest.fixture(scope="session")
def api() -> FakeDatawrapperAPI:
    """The stateful fake Datawrapper API (reset it at the start of each example)."""
    return FakeDatawrapperAPI(id_seed=1)


@pytest.fixture(scope="session")
def api_server(api: FakeDatawrapperAPI) -> Iterator[FakeServer]:
    """A FakeServer serving the fake Datawrapper API."""
    with FakeServer(api) as srv:
        yield srv
