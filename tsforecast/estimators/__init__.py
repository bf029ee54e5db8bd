"""scikit-learn estimators wrapping a stacked LSTM trained with PyTorch Lightning."""

from ._classifier import LSTMClassifier
from ._ensemble import LSTMEnsembleRegressor
from ._regressor import LSTMRegressor

__all__ = ["LSTMClassifier", "LSTMEnsembleRegressor", "LSTMRegressor"]
