"""Search spaces for :class:`~tsforecast.model_selection.OptunaSearchCV`."""

from __future__ import annotations

from typing import Any

from optuna.distributions import (
    BaseDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import BaseTrial
from sklearn.base import BaseEstimator

from ..estimators._base import _BaseLSTM


class LayerUnits:
    """Search space of per-layer widths: one int in ``[low, high]`` for each sampled layer.

    Use it as the value of ``<step>__units``; the number of layers is the sampled (or set)
    ``<step>__num_layers``, and ``units`` becomes a tuple such as ``(128, 32)``.

    Parameters
    ----------
    low, high : int
        Bounds of each layer's width.
    log : bool, default=True
        Sample widths on a log scale.

    Examples
    --------
    >>> from tsforecast.model_selection import LayerUnits
    >>> LayerUnits(16, 128)
    LayerUnits(16, 128, log=True)
    """

    def __init__(self, low: int, high: int, log: bool = True) -> None:
        self.low, self.high, self.log = low, high, log

    def __repr__(self) -> str:
        return f"LayerUnits({self.low}, {self.high}, log={self.log})"


def find_step(estimator: BaseEstimator, kind: type) -> str | None:
    """The parameter prefix of the first ``kind`` inside ``estimator`` ("" for itself)."""
    if isinstance(estimator, kind):
        return ""
    for name, value in estimator.get_params(deep=True).items():
        if isinstance(value, kind):
            return name + "__"
    return None


def default_search_space(estimator: BaseEstimator) -> dict[str, Any]:
    """Layers, units, dropout, learning rate, and the window of a SlidingWindowTransformer.

    Parameters
    ----------
    estimator : estimator
        An LSTM estimator or a Pipeline containing one.

    Returns
    -------
    space : dict
        Optuna distributions keyed by ``step__param`` names.

    Examples
    --------
    >>> from tsforecast import LSTMRegressor
    >>> from tsforecast.model_selection import default_search_space
    >>> sorted(default_search_space(LSTMRegressor()))
    ['dropout', 'learning_rate', 'num_layers', 'units']
    """
    from .. import SlidingWindowTransformer

    lstm = find_step(estimator, _BaseLSTM)
    if lstm is None:
        raise ValueError(
            "OptunaSearchCV needs an LSTMRegressor/LSTMClassifier or a Pipeline containing one "
            f"to build its default search space; got {type(estimator).__name__}."
        )
    space: dict[str, Any] = {
        f"{lstm}num_layers": IntDistribution(1, 4),
        f"{lstm}units": IntDistribution(16, 256, log=True),
        f"{lstm}dropout": FloatDistribution(0.0, 0.5),
        f"{lstm}learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    }
    window = find_step(estimator, SlidingWindowTransformer)
    if window is not None:
        space[f"{window}window"] = IntDistribution(5, 60)
    return space


def check_space(estimator: BaseEstimator, space: dict[str, Any]) -> dict[str, Any]:
    """Refuse names that are not parameters of ``estimator`` and values that are no space."""
    valid = estimator.get_params(deep=True)
    for name, dist in space.items():
        if name not in valid:
            raise ValueError(
                f"The search space names {name!r}, which is not a parameter of "
                f"{type(estimator).__name__}; valid names include {sorted(valid)[:8]} ..."
            )
        if not isinstance(dist, BaseDistribution | LayerUnits):
            raise TypeError(
                f"The search space value for {name!r} must be an optuna distribution "
                f"(IntDistribution, FloatDistribution, CategoricalDistribution) or "
                f"LayerUnits; got {dist!r}."
            )
    return dict(space)


def suggest(trial: BaseTrial, space: dict[str, Any], fixed: dict[str, Any]) -> dict[str, Any]:
    """Sample (or, for a ``FixedTrial``, read back) the parameters of one trial."""
    params: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif not isinstance(dist, LayerUnits):
            params[name] = trial.suggest_categorical(name, dist.choices)
    for name, dist in space.items():
        if isinstance(dist, LayerUnits):
            layers_key = name[: -len("units")] + "num_layers"
            n_layers = params.get(layers_key, fixed[layers_key])
            params[name] = tuple(
                trial.suggest_int(f"{name}_{i}", dist.low, dist.high, log=dist.log)
                for i in range(n_layers)
            )
    return params
