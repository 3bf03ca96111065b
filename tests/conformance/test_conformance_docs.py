"""Conformance: docs/backends.md documents every Timeout and PoolConfig field per backend,
and says the same as the behavioural tests expect where the libraries differ."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from _conformance import (
    BACKENDS,
    INSECURE_WARNING_PER_REQUEST,
    KEEPALIVE_LIMIT_HONOURED,
    WRITE_PHASE_LIMIT,
)

from datawrapper.transport import PoolConfig, Timeout

DOC = Path(__file__).resolve().parents[2] / "docs" / "backends.md"
STATUSES = frozenset({"native", "emulated", "not honoured"})
ROW = re.compile(r"^\|\s*`((?:Timeout|PoolConfig)\.\w+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|(.+)\|\s*$")


def _field_table() -> dict[str, dict[str, str]]:
    """field -> backend -> status, from the configuration table of docs/backends.md."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("| Field |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")][1:4]
    assert columns == list(BACKENDS)
    table: dict[str, dict[str, str]] = {}
    for line in lines:
        match = ROW.match(line)
        if match:
            statuses = [cell.strip() for cell in match.group(2, 3, 4)]
            table[match.group(1)] = dict(zip(columns, statuses, strict=True))
            assert match.group(5).strip(), f"{match.group(1)}: say how, and what differs"
    return table


def test_every_configuration_field_is_documented_per_backend() -> None:
    """Each field of Timeout and PoolConfig has one row, with a known status per backend."""
    table = _field_table()
    fields = {f"Timeout.{f.name}" for f in dataclasses.fields(Timeout)}
    fields |= {f"PoolConfig.{f.name}" for f in dataclasses.fields(PoolConfig)}
    assert set(table) == fields
    for field, statuses in table.items():
        assert set(statuses.values()) <= STATUSES, (field, statuses)


@pytest.mark.parametrize("backend", BACKENDS)
def test_documented_differences_match_what_the_suite_shows(backend: str) -> None:
    """The table says a field is not honoured exactly where a behavioural test shows it."""
    table = _field_table()
    write_honoured = WRITE_PHASE_LIMIT[backend] == "write"
    assert (table["Timeout.write"][backend] != "not honoured") is write_honoured
    assert (
        table["PoolConfig.max_keepalive_connections"][backend] != "not honoured"
    ) is KEEPALIVE_LIMIT_HONOURED[backend]
    text = DOC.read_text(encoding="utf-8")
    warning_row = next(line for line in text.splitlines() if line.startswith("| `verify=False`"))
    cells = [cell.strip() for cell in warning_row.strip("|").split("|")][1:4]
    warns = dict(zip(BACKENDS, cells, strict=True))[backend].startswith("warns")
    assert warns is INSECURE_WARNING_PER_REQUEST[backend]
