"""Compatibility module: the community client's ``datawrapper.charts`` import path.

New code imports the chart classes from :mod:`datawrapper` itself (``dw.BarChart``).
"""

from __future__ import annotations

from ._charts import *  # noqa: F403
from ._charts import __all__ as __all__
