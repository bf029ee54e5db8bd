"""tsforecast: scikit-learn compatible LSTM estimators for time-series forecasting."""

__version__ = "0.1.0"

from .estimators import LSTMClassifier, LSTMEnsembleRegressor, LSTMRegressor
from .persistence import load_model, save_model
from .preprocessing import SlidingWindowTransformer, make_supervised

__all__ = [
    "LSTMClassifier",
    "LSTMEnsembleRegressor",
    "LSTMRegressor",
    "SlidingWindowTransformer",
    "__version__",
    "load_model",
    "make_supervised",
    "save_model",
]
