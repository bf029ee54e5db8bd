"""tsforecast: scikit-learn compatible LSTM estimators for time-series forecasting."""

from .estimators import LSTMClassifier, LSTMRegressor
from .windowing import SlidingWindowTransformer, make_supervised

__version__ = "0.1.0"

__all__ = [
    "LSTMClassifier",
    "LSTMRegressor",
    "SlidingWindowTransformer",
    "__version__",
    "make_supervised",
]
