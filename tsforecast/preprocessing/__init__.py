"""Transformers for time-ordered data: windows, panel windows, returns, calendar and solar
covariates,
variance targets and text tokens.

Every transformer that reads rows before each row (windows, returns) carries the last fitted
rows over to data that continues the fitted data, by its index; see
:func:`predict_with_history` for rows that arrive without one.
"""

from ._calendar import calendar_features
from ._history import HistoryPaddingWarning, history_length, predict_with_history
from ._lags import LagSequenceTransformer
from ._panel import PanelWindowTransformer
from ._returns import ReturnsTransformer
from ._solar import clear_sky_irradiance
from ._text import TextTokenizer, pad_sequences
from ._variance import garman_klass_variance, parkinson_variance, squared_returns
from ._windows import SlidingWindowTransformer, make_supervised

__all__ = [
    "HistoryPaddingWarning",
    "LagSequenceTransformer",
    "PanelWindowTransformer",
    "ReturnsTransformer",
    "SlidingWindowTransformer",
    "TextTokenizer",
    "calendar_features",
    "clear_sky_irradiance",
    "garman_klass_variance",
    "history_length",
    "make_supervised",
    "pad_sequences",
    "parkinson_variance",
    "predict_with_history",
    "squared_returns",
]
