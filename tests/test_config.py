"""Tests of Timeout, PoolConfig and RetryPolicy: defaults, validation, derived values."""

from __future__ import annotations

import dataclasses

import pytest

from datawrapper import PoolConfig, RetryPolicy, Timeout


def test_timeout_defaults_are_finite() -> None:
    """The default Timeout limits every phase with a finite number."""
    t = Timeout()
    assert (t.connect, t.read, t.write, t.pool) == (5.0, 30.0, 30.0, 10.0)


def test_timeout_single_number_sets_all_four() -> None:
    """Timeout(7) means seven seconds for connect, read, write and pool."""
    t = Timeout(7)
    assert (t.connect, t.read, t.write, t.pool) == (7.0, 7.0, 7.0, 7.0)


def test_timeout_keywords_override_base() -> None:
    """Keywords override single fields of the positional value or of the defaults."""
    assert Timeout(10, read=60).read == 60.0
    assert Timeout(10, read=60).connect == 10.0
    t = Timeout(connect=5, read=30, write=60)
    assert (t.connect, t.read, t.write, t.pool) == (5.0, 30.0, 60.0, 10.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"connect": 0}, "connect"),
        ({"read": -1}, "read"),
        ({"write": float("nan")}, "write"),
        ({"pool": float("inf")}, "pool"),
        ({"read": None}, "read"),
        ({"connect": "5"}, "connect"),
    ],
)
def test_timeout_rejects_bad_values_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    """Zero, negative, infinite, None and non-numeric limits raise ValueError naming the field."""
    with pytest.raises(ValueError, match=f"Timeout.{field}"):
        Timeout(**kwargs)  # type: ignore[arg-type]


def test_timeout_rejects_bad_positional() -> None:
    """A bad single value raises ValueError too."""
    with pytest.raises(ValueError, match="Timeout"):
        Timeout(0)


def test_timeout_is_frozen() -> None:
    """A Timeout cannot be changed after construction."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        Timeout().read = 1.0  # type: ignore[misc]


def test_timeout_capped_to_remaining() -> None:
    """capped() lowers every field above the remaining time and leaves smaller ones."""
    t = Timeout(connect=5, read=30, write=60, pool=1).capped(2.5)
    assert (t.connect, t.read, t.write, t.pool) == (2.5, 2.5, 2.5, 1.0)
    assert t.total == 2.5
    loose = Timeout(1).capped(10)
    assert (loose.connect, loose.read, loose.total) == (1.0, 1.0, 10.0)


def test_timeout_total_is_optional_and_validated() -> None:
    """total defaults to None, is kept when copying, and must be positive."""
    assert Timeout().total is None
    assert Timeout(Timeout(total=3)).total == 3.0
    with pytest.raises(ValueError, match=r"Timeout\.total"):
        Timeout(total=0)


def test_pool_config_defaults_and_validation() -> None:
    """PoolConfig has sane defaults and rejects counts below one or keepalive above max."""
    p = PoolConfig()
    assert (p.max_connections, p.max_keepalive_connections, p.block) == (10, 10, True)
    with pytest.raises(ValueError, match="max_connections"):
        PoolConfig(max_connections=0)
    with pytest.raises(ValueError, match="max_keepalive_connections"):
        PoolConfig(max_connections=2, max_keepalive_connections=3)
    with pytest.raises(ValueError, match="keepalive_expiry"):
        PoolConfig(keepalive_expiry=-1)
    with pytest.raises(ValueError, match="block"):
        PoolConfig(block="yes")  # type: ignore[arg-type]


def test_retry_policy_defaults() -> None:
    """The default policy retries the documented statuses three times."""
    p = RetryPolicy()
    assert p.max_retries == 3
    assert p.retry_on == frozenset({429, 500, 502, 503, 504})
    assert p.max_retry_after == 60.0
    assert p.retry_non_idempotent is False


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"retry_on": [200]}, "retry_on"),
        ({"retry_on": [999]}, "retry_on"),
        ({"retry_on": "429"}, "retry_on"),
        ({"backoff_factor": -0.1}, "backoff_factor"),
        ({"jitter": 2}, "jitter"),
        ({"max_retry_after": -5}, "max_retry_after"),
        ({"deadline": 0}, "deadline"),
        ({"retry_non_idempotent": "no"}, "retry_non_idempotent"),
    ],
)
def test_retry_policy_rejects_bad_values(kwargs: dict[str, object], field: str) -> None:
    """Invalid policy values raise ValueError naming the field."""
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_on_accepts_any_iterable() -> None:
    """retry_on may be a list and is stored as a frozenset."""
    assert RetryPolicy(retry_on=[503, 503, 429]).retry_on == frozenset({429, 503})


def test_backoff_grows_exponentially_and_is_capped() -> None:
    """Without jitter the waits double from backoff_factor and stop at backoff_max."""
    p = RetryPolicy(backoff_factor=0.5, backoff_max=3.0, jitter=0.0)
    assert [p.backoff(n, 0.99) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_backoff_jitter_stays_in_range() -> None:
    """Jitter scales a wait into [1 - jitter, 1] times the base."""
    p = RetryPolicy(backoff_factor=1.0, jitter=0.5)
    assert p.backoff(1, 0.0) == 1.0
    assert p.backoff(1, 0.999999) == pytest.approx(0.5, abs=1e-5)


def test_backoff_never_overflows() -> None:
    """A huge retry number gives backoff_max, not an OverflowError."""
    assert RetryPolicy(jitter=0).backoff(10_000, 0.5) == 8.0
