"""Compatibility module: the community client's ``datawrapper.exceptions`` import path.

New code imports the exceptions from :mod:`datawrapper` itself; the whole tree is documented
in ``datawrapper._exceptions``.
"""

from __future__ import annotations

from ._exceptions import *  # noqa: F403
from ._exceptions import __all__ as __all__
