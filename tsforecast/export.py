"""Export fitted estimators as self-contained graphs for serving without Python.

The exported graph takes the raw windows that ``predict`` takes and returns what ``predict``
(regressors) or ``predict_proba`` (classifiers) returns: the target scaling and the softmax are
part of the graph, and batch and time axes are dynamic.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._nn.peephole import PeepholeLSTM
from .estimators import LSTMClassifier, LSTMEnsembleRegressor, LSTMRegressor

__all__ = ["to_onnx"]


class _Served(nn.Module):
    """``module_`` plus what ``predict``/``predict_proba`` add around it, in float64."""

    def __init__(self, model: LSTMRegressor | LSTMClassifier) -> None:
        super().__init__()
        self.network = model.module_
        self.univariate = model._input_ndim == 2
        self.classifier = isinstance(model, LSTMClassifier)
        n_outputs = 1 if self.classifier else model.n_outputs_
        self.n_outputs = n_outputs
        self.n_quantiles = 1
        self.median = 0
        self.log_variance = not self.classifier and model.loss_ == "qlike"
        if not self.classifier and model.loss_ == "quantile":
            self.n_quantiles = len(model.quantiles_)
            self.median = int(np.argmin(np.abs(model.quantiles_ - 0.5)))
        self.flatten = not self.classifier and n_outputs == 1
        scale = np.ones(n_outputs) if self.classifier else model.target_scale_
        mean = np.zeros(n_outputs) if self.classifier else model.target_mean_
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float64))
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, T) or (B, T, F) -> (B,) or (B, n_outputs) or (B, n_classes)
        if self.univariate:
            x = x.unsqueeze(-1)
        raw = self.network(x).double()
        if self.classifier:
            return torch.softmax(raw, dim=1)
        if self.n_quantiles > 1:
            quantiles = raw.reshape(raw.shape[0], self.n_outputs, self.n_quantiles)
            # The median's rank among the sorted quantiles, as predict's monotone rearrangement.
            raw = torch.topk(quantiles, self.median + 1, dim=2, largest=False).values[:, :, -1]
        # loss="qlike": the network forecasts log-variance.
        out = torch.exp(raw) * self.scale if self.log_variance else raw * self.scale + self.mean
        return out[:, 0] if self.flatten else out


class _ServedEnsemble(nn.Module):
    """The members' served graphs, combined as ``predict`` combines them: the mean, or the
    median as the mean of the two middle values (by sorting, which ONNX exports)."""

    def __init__(self, model: LSTMEnsembleRegressor) -> None:
        super().__init__()
        self.members = nn.ModuleList(_Served(member) for member in model.estimators_)
        self.median = model.combine == "median"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        forecasts = torch.stack([member(x) for member in self.members])
        if not self.median:
            return forecasts.mean(dim=0)
        ordered, k = forecasts.sort(dim=0).values, len(self.members)
        return (ordered[(k - 1) // 2] + ordered[k // 2]) / 2


def _check_exportable(model: Any) -> None:
    if isinstance(model, LSTMEnsembleRegressor):
        check_is_fitted(model)
        for member in model.estimators_:
            _check_exportable(member)
        return
    if not isinstance(model, (LSTMRegressor, LSTMClassifier)):
        raise TypeError(
            "model must be a fitted LSTMRegressor, LSTMClassifier or LSTMEnsembleRegressor; "
            f"got {type(model).__name__}. For a Pipeline, export its last step and run the "
            "steps before it in the server."
        )
    check_is_fitted(model)
    if hasattr(model, "vocab_size_"):
        raise ValueError(
            "Token models (embedding_dim set) cannot be exported: their sequences are packed "
            "to lengths read from the data, which a traced graph cannot follow."
        )
    if any(isinstance(m, PeepholeLSTM) for m in model.module_.modules()):
        raise ValueError(
            "cell='peephole' cannot be exported: its recurrence is a TorchScript loop that "
            "tracing unrolls to the example's length, which would fix the time axis. Use "
            "cell='lstm' or cell='gru' for served models."
        )


def _example(model: LSTMRegressor | LSTMClassifier) -> torch.Tensor:
    # 2-D models read a fixed number of columns; 3-D ones any number of time steps.
    # A linear skip path reads exactly the fitted window length (its time axis is then fixed).
    length = getattr(model, "n_timesteps_in_", 7)
    shape = (
        (1, model.n_features_in_) if model._input_ndim == 2 else (1, length, model.n_features_in_)
    )
    return torch.zeros(shape, dtype=torch.float32)


def _dynamic_axes(model: LSTMRegressor | LSTMClassifier) -> dict[int, str]:
    """The input axes that may vary: the samples, and the time steps of a 3-D model without a
    linear skip path. The others keep the example's size, so that onnxruntime refuses an
    input of another width, as ``predict`` does."""
    if model._input_ndim == 3 and not hasattr(model, "n_timesteps_in_"):
        return {0: "n_samples", 1: "n_timesteps"}
    return {0: "n_samples"}


def to_onnx(
    model: LSTMRegressor | LSTMClassifier | LSTMEnsembleRegressor, path: str | os.PathLike[str]
) -> None:
    """Write a fitted estimator as an ONNX graph that predicts like the estimator.

    The graph's input ``"X"`` is a float32 array shaped like the ``X`` of ``predict``
    (``(n_samples, n_timesteps)`` or ``(n_samples, n_timesteps, n_features)``): any number of
    samples and, for 3-D input without ``linear_skip``, of time steps; the other axes must
    have the fitted sizes, and onnxruntime refuses an input that has not. Its output ``"y"``
    (float64) is what ``predict`` returns for a
    regressor (in the target's units; the median for ``loss="quantile"``) and what
    ``predict_proba`` returns for a classifier. Requires the ``onnx`` extra
    (``pip install tsforecast[onnx]``).

    Parameters
    ----------
    model : LSTMRegressor, LSTMClassifier or LSTMEnsembleRegressor
        A fitted estimator with ``cell="lstm"`` or ``cell="gru"`` and numeric input (for an
        ensemble: every member; the graph combines them as ``predict`` does).
    path : str or path-like
        Where to write the ``.onnx`` file.

    Raises
    ------
    ValueError
        For models the graph cannot represent: ``cell="peephole"`` (a TorchScript loop that
        export would unroll to a fixed length) and token models (packed sequences).

    Examples
    --------
    >>> import numpy as np, onnxruntime, tempfile, os
    >>> from tsforecast import LSTMRegressor
    >>> from tsforecast.export import to_onnx
    >>> X = np.random.default_rng(0).normal(size=(64, 5)).astype("float32")
    >>> model = LSTMRegressor(units=4, max_epochs=2, random_state=0).fit(X, X.sum(axis=1))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    >>> to_onnx(model, path)
    >>> session = onnxruntime.InferenceSession(path)
    >>> served = session.run(None, {"X": X[:10]})[0]
    >>> bool(np.abs(served - model.predict(X[:10])).max() < 1e-5)
    True
    """
    _check_exportable(model)
    served = _ServedEnsemble(model) if isinstance(model, LSTMEnsembleRegressor) else _Served(model)
    shape_of = model.estimators_[0] if isinstance(model, LSTMEnsembleRegressor) else model
    # The TorchScript-based exporter: torch.export's decomposition of nn.LSTM specializes the
    # time axis of some models to the example's length, and takes ~10 s per model, not 0.3 s.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the exporter's own deprecation
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # nn.LSTM's shape checks
        # About initial states given as inputs; ours start at zero (batch sizes are tested).
        warnings.filterwarnings("ignore", "Exporting a model to ONNX with a batch_size")
        torch.onnx.export(
            served.eval(),
            (_example(shape_of),),
            os.fspath(path),
            input_names=["X"],
            output_names=["y"],
            dynamic_axes={"X": _dynamic_axes(shape_of), "y": {0: "n_samples"}},
            dynamo=False,
        )
