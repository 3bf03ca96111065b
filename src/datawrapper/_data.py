"""Turning chart data into the CSV bytes Datawrapper stores, and back. pandas is optional."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from ._exceptions import InvalidRequestError

__all__ = ["csv_from_data", "is_dataframe", "to_dataframe"]


def is_dataframe(obj: object) -> bool:
    """Whether ``obj`` is a pandas DataFrame (without importing pandas)."""
    return type(obj).__name__ == "DataFrame" and type(obj).__module__.startswith("pandas")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_from_data(data: Any) -> bytes:
    """``data`` as UTF-8 CSV bytes.

    Accepts a pandas DataFrame (written without its index), CSV text or bytes (sent as is),
    a list of row dicts (columns in first-seen order), a dict of columns (equal lengths), or a
    list of rows whose first row is the header.
    """
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if is_dataframe(data):
        text: str = data.to_csv(index=False)
        return text.encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if isinstance(data, Mapping):
        columns = [str(k) for k in data]
        values = [list(v) if not isinstance(v, (str, bytes)) else None for v in data.values()]
        if any(v is None for v in values):
            raise InvalidRequestError(
                "a dict of columns needs a list of values per column, e.g. "
                "{'country': ['A', 'B'], 'value': [1, 2]}"
            )
        lengths = {len(v) for v in values if v is not None}
        if len(lengths) > 1:
            raise InvalidRequestError(
                f"every column needs the same number of values; got lengths {sorted(lengths)}"
            )
        writer.writerow(columns)
        for row in zip(*[v for v in values if v is not None], strict=True):
            writer.writerow([_cell(c) for c in row])
        return buffer.getvalue().encode("utf-8")
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        rows = list(data)
        if not rows:
            return b""
        if all(isinstance(r, Mapping) for r in rows):
            columns_seen: dict[str, None] = {}
            for r in rows:
                for key in r:
                    columns_seen.setdefault(str(key), None)
            header = list(columns_seen)
            writer.writerow(header)
            for r in rows:
                by_name = {str(k): v for k, v in r.items()}
                writer.writerow([_cell(by_name.get(col)) for col in header])
            return buffer.getvalue().encode("utf-8")
        if all(isinstance(r, Sequence) and not isinstance(r, (str, bytes)) for r in rows):
            for r in rows:
                writer.writerow([_cell(c) for c in r])
            return buffer.getvalue().encode("utf-8")
        raise InvalidRequestError(
            "a list of rows must hold only dicts (one per row) or only lists (the first one "
            "the header)"
        )
    raise InvalidRequestError(
        f"cannot turn {type(data).__name__} into chart data: pass a pandas DataFrame, CSV "
        "text, a list of row dicts or a dict of columns"
    )


def to_dataframe(text: str, *, sep: str | None = None) -> Any:
    """CSV ``text`` as a pandas DataFrame (needs the ``pandas`` extra)."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "a DataFrame needs pandas, which is not installed: run pip install "
            "'datawrapper[pandas]', or call get_data(..., as_dataframe=False) for CSV text"
        ) from exc
    if sep is None:
        first = text.split("\n", 1)[0]
        sep = "\t" if first.count("\t") > first.count(",") else ","
    return pd.read_csv(io.StringIO(text), sep=sep)
