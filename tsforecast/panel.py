"""Deprecated module: its names moved to :mod:`tsforecast.preprocessing`."""

import warnings
from typing import Any

from . import preprocessing


def __getattr__(name: str) -> Any:
    if name == "PanelWindowTransformer":
        warnings.warn(
            f"tsforecast.panel.{name} moved to tsforecast.preprocessing.{name}; the old path "
            "will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        return preprocessing.PanelWindowTransformer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
