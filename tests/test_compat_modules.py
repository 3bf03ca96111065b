"""Tests of the community client's import paths kept for migration."""

from __future__ import annotations

import datawrapper as dw


def test_exceptions_module_exposes_the_same_classes() -> None:
    """datawrapper.exceptions gives the very classes the package raises."""
    from datawrapper.exceptions import FailedRequestError, InvalidRequestError, RateLimitError

    assert FailedRequestError is dw.FailedRequestError
    assert InvalidRequestError is dw.InvalidRequestError
    assert issubclass(RateLimitError, FailedRequestError)


def test_charts_module_exposes_the_chart_classes() -> None:
    """datawrapper.charts gives the same chart classes as the package."""
    from datawrapper.charts import BarChart, LineChart

    assert BarChart is dw.BarChart
    assert LineChart(title="x").chart_type == "d3-lines"
