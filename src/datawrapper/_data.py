"""Turning chart data into the bytes Datawrapper stores, and back. pandas is optional.

pandas is never imported at module import: a DataFrame is recognised by its type's name and
module, and :func:`to_dataframe` imports pandas only when a DataFrame is asked for.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._exceptions import InvalidRequestError

__all__ = [
    "csv_from_data",
    "describe_data",
    "is_dataframe",
    "json_from_data",
    "pandas_available",
    "to_dataframe",
]

_HOW_TO = (
    "pass a pandas DataFrame, CSV text, a list of row dicts such as "
    "[{'country': 'A', 'value': 1}], a dict of columns such as "
    "{'country': ['A', 'B'], 'value': [1, 2]}, or a list of rows whose first row is the header"
)


def is_dataframe(obj: object) -> bool:
    """Whether ``obj`` is a pandas DataFrame (without importing pandas)."""
    cls = type(obj)
    return cls.__name__ == "DataFrame" and cls.__module__.split(".", 1)[0] == "pandas"


def pandas_available() -> bool:
    """Whether pandas can be imported (it is an optional extra)."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def _column_values(name: str, values: Any) -> list[Any]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidRequestError(
            f"column {name!r} must be a list of values, got {type(values).__name__}; "
            "a dict of columns looks like {'country': ['A', 'B'], 'value': [1, 2]}"
        )
    return list(values)


class _CsvWriter:
    """A CSV writer with ``\n`` line ends that keeps cells with a bare ``\r`` intact.

    The csv module quotes cells containing the delimiter, the quote or a character of the
    line terminator; with ``\n`` line ends a carriage return would go out unquoted and break
    the row, so rows holding one are written with every cell quoted.
    """

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self._minimal = csv.writer(self.buffer, lineterminator="\n")
        self._all = csv.writer(self.buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, cells: list[str]) -> None:
        writer = self._all if any("\r" in c for c in cells) else self._minimal
        writer.writerow(cells)

    def getvalue(self) -> bytes:
        return self.buffer.getvalue().encode("utf-8")


def csv_from_data(data: Any) -> bytes:
    """``data`` as UTF-8 CSV bytes, ready for ``PUT /v3/charts/{id}/data``.

    Accepts a pandas DataFrame (written without its index), CSV (or TSV) text or bytes (sent
    unchanged, byte for byte), a list of row dicts (columns in first-seen order), a dict of
    columns (all of the same length), or a list of rows whose first row is the header.
    ``None`` and NaN cells become empty cells, booleans ``true``/``false``. Anything else
    raises :class:`~datawrapper.InvalidRequestError` saying what is accepted.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    if is_dataframe(data):
        text: str = data.to_csv(index=False)
        return text.encode("utf-8")
    writer = _CsvWriter()
    if isinstance(data, Mapping):
        columns = [str(k) for k in data]
        values = [_column_values(name, v) for name, v in zip(columns, data.values(), strict=True)]
        lengths = {len(v) for v in values}
        if len(lengths) > 1:
            sizes = ", ".join(
                f"{name!r}: {len(v)}" for name, v in zip(columns, values, strict=True)
            )
            raise InvalidRequestError(f"every column needs the same number of values; got {sizes}")
        writer.writerow(columns)
        for row in zip(*values, strict=True):
            writer.writerow([_cell(c) for c in row])
        return writer.getvalue()
    if isinstance(data, Sequence) or (
        isinstance(data, Iterable) and not isinstance(data, (str, bytes))
    ):
        rows = list(data)
        if not rows:
            return b""
        if all(isinstance(r, Mapping) for r in rows):
            seen: dict[str, None] = {}
            for r in rows:
                for key in r:
                    seen.setdefault(str(key), None)
            header = list(seen)
            writer.writerow(header)
            for r in rows:
                by_name = {str(k): v for k, v in r.items()}
                writer.writerow([_cell(by_name.get(col)) for col in header])
            return writer.getvalue()
        if all(isinstance(r, Sequence) and not isinstance(r, (str, bytes)) for r in rows):
            for r in rows:
                writer.writerow([_cell(c) for c in r])
            return writer.getvalue()
        raise InvalidRequestError(
            "a list of rows must hold only dicts (one per row) or only lists (the first one "
            f"the header); {_HOW_TO}"
        )
    raise InvalidRequestError(f"cannot turn {type(data).__name__} into chart data: {_HOW_TO}")


def json_from_data(data: Any) -> bytes:
    """``data`` as UTF-8 JSON bytes (for ``add_json``); text and bytes must already be JSON."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidRequestError(f"the JSON data is not valid JSON: {exc}") from None
        return raw
    if isinstance(data, str):
        try:
            json.loads(data)
        except ValueError as exc:
            raise InvalidRequestError(f"the JSON data is not valid JSON: {exc}") from None
        return data.encode("utf-8")
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(
            f"cannot send {type(data).__name__} as JSON data: {exc}; pass dicts, lists, "
            "strings, numbers, booleans and None only (NaN is not JSON)"
        ) from None


def describe_data(data: Any) -> str:
    """A short description of ``data`` for reprs and log lines (never its content)."""
    if data is None:
        return "no data"
    if is_dataframe(data):
        rows, cols = data.shape
        return f"DataFrame {rows}x{cols}"
    if isinstance(data, (str, bytes)):
        return f"{len(data)} characters of CSV" if isinstance(data, str) else f"{len(data)} bytes"
    if isinstance(data, Mapping):
        return f"{len(data)} columns"
    if isinstance(data, Sequence):
        return f"{len(data)} rows"
    return type(data).__name__


def to_dataframe(text: str, *, sep: str | None = None) -> Any:
    """CSV ``text`` as a pandas DataFrame (needs the ``pandas`` extra).

    The separator is detected from the header line (Datawrapper stores tab-separated data as
    often as comma-separated) unless ``sep`` is given.
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "a DataFrame needs pandas, which is not installed: run pip install "
            "'datawrapper[pandas]', or call get_data(..., as_dataframe=False) for CSV text"
        ) from exc
    if sep is None:
        first = text.split("\n", 1)[0]
        counts = {s: first.count(s) for s in ("\t", ",", ";")}
        sep = max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","
    if not text.strip():
        return pd.DataFrame()
    return pd.read_csv(io.StringIO(text), sep=sep)
