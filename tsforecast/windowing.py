"""Deprecated module: its names moved to :mod:`tsforecast.preprocessing`."""

import warnings
from typing import Any

from . import preprocessing

_MOVED = ("SlidingWindowTransformer", "make_supervised")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"tsforecast.windowing.{name} moved to tsforecast.preprocessing.{name}; the old "
            "path will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(preprocessing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
