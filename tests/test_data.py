"""Tests of chart data conversion: DataFrame, CSV text, row dicts, columns -> CSV, and back."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datawrapper import InvalidRequestError
from datawrapper._data import (
    csv_from_data,
    describe_data,
    is_dataframe,
    json_from_data,
    pandas_available,
    to_dataframe,
)


def test_text_and_bytes_are_sent_unchanged() -> None:
    """CSV/TSV text is UTF-8 encoded as is; bytes, bytearray and memoryview pass unchanged."""
    tsv = "Land\tWert\nÖsterreich\t1,5\n"
    assert csv_from_data(tsv) == tsv.encode("utf-8")
    raw = b"a;b\r\n1;2\r\n"
    assert csv_from_data(raw) == raw
    assert csv_from_data(bytearray(raw)) == raw
    assert csv_from_data(memoryview(raw)) == raw


def test_dataframe_is_written_without_index() -> None:
    """A DataFrame becomes CSV without its index column."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"country": ["A", "B"], "value": [1.5, 2]}, index=[10, 20])
    assert csv_from_data(frame) == b"country,value\nA,1.5\nB,2.0\n"


def test_row_dicts_use_first_seen_column_order() -> None:
    """Row dicts become CSV with columns in first-seen order; missing cells are empty."""
    rows = [{"b": 1, "a": "x"}, {"a": "y", "c": True}]
    assert csv_from_data(rows) == b"b,a,c\n1,x,\n,y,true\n"


def test_dict_of_columns() -> None:
    """A dict of columns becomes CSV row by row; any iterable column works."""
    data = {"year": range(2020, 2022), "share": (0.5, None)}
    assert csv_from_data(data) == b"year,share\n2020,0.5\n2021,\n"


def test_list_of_rows_with_header_first() -> None:
    """A list of lists is written as is, the first row being the header."""
    assert csv_from_data([["a", "b"], [1, False], ("x,y", None)]) == b'a,b\n1,false\n"x,y",\n'


def test_cells_are_quoted_and_nan_is_empty() -> None:
    """Commas, quotes and newlines are quoted; NaN and None become empty cells."""
    rows = [{"text": 'say "hi", then\nleave', "n": float("nan")}]
    assert csv_from_data(rows) == b'text,n\n"say ""hi"", then\nleave",\n'


def test_carriage_return_in_a_cell_is_quoted() -> None:
    """A bare carriage return inside a cell is quoted, so it cannot split the row."""
    encoded = csv_from_data([{"a": "x\ry", "b": 1}, {"a": "z", "b": 2}])
    assert encoded == b'a,b\n"x\ry","1"\nz,2\n'
    rows = list(csv.reader(io.StringIO(encoded.decode(), newline="")))
    assert rows == [["a", "b"], ["x\ry", "1"], ["z", "2"]]


def test_generator_of_rows_and_empty_list() -> None:
    """A generator of row dicts works; an empty list gives empty data."""
    assert csv_from_data({"a": i} for i in range(2)) == b"a\n0\n1\n"
    assert csv_from_data([]) == b""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"a": [1, 2], "b": [1]}, r"same number of values; got 'a': 2, 'b': 1"),
        ({"a": 5}, "column 'a' must be a list of values"),
        ({"a": "xyz"}, "column 'a' must be a list of values"),
        ([{"a": 1}, [1]], "only dicts"),
        (42, "cannot turn int into chart data"),
        (None, "cannot turn NoneType into chart data"),
    ],
)
def test_bad_data_raises_a_clear_error(data: Any, message: str) -> None:
    """Data that cannot be CSV raises InvalidRequestError saying what is accepted."""
    with pytest.raises(InvalidRequestError, match=message) as info:
        csv_from_data(data)
    assert isinstance(info.value, ValueError)


cell = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.integers(),
    st.booleans(),
)


@given(
    st.lists(
        st.dictionaries(st.sampled_from(["a", "b", "c"]), cell, min_size=1),
        min_size=1,
        max_size=6,
    )
)
def test_row_dicts_round_trip_through_csv(rows: list[dict[str, Any]]) -> None:
    """Any row dicts, parsed back from the CSV, give the same cells as text."""
    text = csv_from_data(rows).decode("utf-8")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    header = parsed[0]
    assert sorted(header) == sorted({k for r in rows for k in r})
    expected = [
        [
            ""
            if col not in r
            else ("true" if r[col] is True else "false" if r[col] is False else str(r[col]))
            for col in header
        ]
        for r in rows
    ]
    assert parsed[1:] == expected


def test_json_data() -> None:
    """json_from_data dumps objects; text and bytes must already be valid JSON."""
    assert json_from_data({"a": [1, True, None]}) == b'{"a": [1, true, null]}'
    assert json_from_data('{"ok": 1}') == b'{"ok": 1}'
    assert json_from_data(b"[1]") == b"[1]"
    assert json_from_data({"ü": "ß"}) == '{"ü": "ß"}'.encode()
    for bad in ("{nope", b"\xff", float("nan"), {1, 2}):
        with pytest.raises(InvalidRequestError, match="JSON"):
            json_from_data(bad)


def test_to_dataframe_detects_the_separator() -> None:
    """Tab-, comma- and semicolon-separated text all become the right columns."""
    pytest.importorskip("pandas")
    for sep in ("\t", ",", ";"):
        frame = to_dataframe(f"a{sep}b\n1{sep}2\n")
        assert list(frame.columns) == ["a", "b"]
        assert frame.iloc[0].tolist() == [1, 2]
    assert to_dataframe("x|y\n1|2\n", sep="|").columns.tolist() == ["x", "y"]
    assert to_dataframe("").empty


def test_to_dataframe_without_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pandas, asking for a DataFrame names the extra to install."""
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert not pandas_available()
    with pytest.raises(ImportError, match=r"pip install 'datawrapper\[pandas\]'"):
        to_dataframe("a\n1\n")


def test_is_dataframe_and_describe_data() -> None:
    """DataFrames are recognised by type; describe_data summarises without the content."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1, 2, 3]})
    assert is_dataframe(frame)
    assert not is_dataframe({"a": [1]})
    assert describe_data(frame) == "DataFrame 3x1"
    assert describe_data("a,b\n") == "4 characters of CSV"
    assert describe_data(b"abc") == "3 bytes"
    assert describe_data({"a": [], "b": []}) == "2 columns"
    assert describe_data([{}, {}]) == "2 rows"
    assert describe_data(None) == "no data"
    assert describe_data(3.5) == "float"


def test_core_import_does_not_import_pandas() -> None:
    """Importing datawrapper and converting non-DataFrame data never imports pandas."""
    code = textwrap.dedent(
        """
        import sys
        import datawrapper as dw
        from datawrapper._data import csv_from_data
        csv_from_data([{"a": 1}])
        dw.BarChart(title="t", data={"a": [1]})
        print("pandas" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
