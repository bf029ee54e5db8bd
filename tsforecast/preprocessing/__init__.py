"""Transformers for time-ordered data: windows, panel windows, returns, calendar and solar
covariates.

Every transformer that reads rows before each row (windows, returns) carries the last fitted
rows over to data that continues the fitted data, by its index; see
:func:`predict_with_history` for rows that arrive without one.
"""

import warnings
from typing import Any

from ._calendar import calendar_features
from ._history import HistoryPaddingWarning, history_length, predict_with_history
from ._lags import LagSequenceTransformer
from ._panel import PanelWindowTransformer
from ._returns import ReturnsTransformer
from ._solar import clear_sky_irradiance
from ._windows import SlidingWindowTransformer, make_supervised

__all__ = [
    "HistoryPaddingWarning",
    "LagSequenceTransformer",
    "PanelWindowTransformer",
    "ReturnsTransformer",
    "SlidingWindowTransformer",
    "calendar_features",
    "clear_sky_irradiance",
    "history_length",
    "make_supervised",
    "predict_with_history",
]


def __getattr__(name: str) -> Any:
    if name == "RelativeTargetRegressor":
        warnings.warn(
            "tsforecast.preprocessing.RelativeTargetRegressor moved to "
            "tsforecast.compose.RelativeTargetRegressor; the old path will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        from ..compose import RelativeTargetRegressor

        return RelativeTargetRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
