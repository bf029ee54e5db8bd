"""tsforecast's contender on an M4 panel: one global LSTMRegressor over every series.

:func:`tsforecast_contender` is the recipe that ``benchmarks/m4.py`` scores; its settings were
chosen on M4's validation split only (the last ``horizon`` training values of each series held
out, see ``python -m benchmarks.m4_validation``), never on the test values.

The recipe: windows of ``window`` values of each series (no window crosses two series) and
the next ``horizon`` values as a multi-step target; inside the network each window is scaled
by its own statistics (``window_scaling``) and the network forecasts the difference to the
seasonal-naive forecast (``seasonal_residual``). It trains a fixed number of epochs on every
window (no early-stopping split: the epochs were chosen on the validation split).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast import LSTMEnsembleRegressor, LSTMRegressor
from tsforecast.preprocessing import PanelWindowTransformer

# The recipe's settings (chosen on the validation split, see notes/i21b.md).
RECIPE: dict[str, Any] = {
    "window": 168,
    "units": 64,
    "learning_rate": 1e-3,
    "batch_size": 256,
    "windows_per_epoch": 8192,
    "max_epochs": 10,
    "validation_fraction": 0.0,
    "window_scaling": "robust",
    "seasonal_residual": True,
    "linear_skip": False,
    "loss": "mae",
    "members": 5,
}


def _series(train: Any) -> list[np.ndarray]:
    """The training values of each series, from arrays or a long frame ``(id, value)``."""
    if isinstance(train, pd.DataFrame):
        ids, values = train.columns[:2]
        return [g[values].to_numpy(np.float64) for _, g in train.groupby(ids, sort=False)]
    return [np.asarray(s, dtype=np.float64) for s in train]


def _panel(series: Sequence[np.ndarray]) -> pd.DataFrame:
    codes = np.repeat(np.arange(len(series)), [len(s) for s in series])
    return pd.DataFrame({"id": codes, "value": np.concatenate(series).astype(np.float32)})


def _future(series: Sequence[np.ndarray], horizon: int) -> np.ndarray:
    """Row ``i``'s next ``horizon`` values (NaN past its series' end), rows as in the panel."""
    parts = []
    for s in series:
        padded = np.concatenate([s, np.full(horizon, np.nan)])
        parts.append(np.lib.stride_tricks.sliding_window_view(padded[1:], horizon)[: len(s)])
    return np.concatenate(parts)


def contender_model(
    random_state: int, season: int, **overrides: Any
) -> LSTMRegressor | LSTMEnsembleRegressor:
    """The recipe's estimator (``overrides`` replace entries of :data:`RECIPE`): one network,
    or with ``members > 1`` an ensemble of seeds combined by the median."""
    settings = {**RECIPE, **overrides}
    members = settings.pop("members")
    settings.pop("window")
    network = LSTMRegressor(season=season, random_state=random_state, **settings)
    if members == 1:
        return network
    return LSTMEnsembleRegressor(network, n_members=members, random_state=random_state)


def tsforecast_contender(
    train: Any,
    horizon: int,
    season: int,
    random_state: int = 0,
    **overrides: Any,
) -> np.ndarray:
    """Fit the recipe on every series of ``train`` and forecast the next ``horizon`` values.

    Parameters
    ----------
    train : sequence of 1-D array-like, or DataFrame
        The training values of each series (M4's rows without their NaN padding), or a long
        frame whose first two columns are the series id and the value, each series in time
        order.
    horizon : int
        Steps to forecast (48 for M4 Hourly).
    season : int
        Seasonal period (24 for M4 Hourly).
    random_state : int, default=0
        Seed of the network's initialisation and minibatches.
    **overrides
        Replace entries of :data:`RECIPE` (for the ablation).

    Returns
    -------
    forecasts : ndarray of shape (n_series, horizon)
        One row per series, in the order of ``train``.
    """
    series = _series(train)
    settings = {**RECIPE, **overrides}
    window = settings["window"]
    windows = PanelWindowTransformer(group="id", window=window).fit_transform(_panel(series))
    future = _future(series, horizon)
    ends = np.cumsum([len(s) for s in series]) - 1
    starts = ends - np.array([len(s) for s in series]) + 1
    position = np.arange(len(future)) - np.repeat(starts, [len(s) for s in series])
    # Windows with a whole history and a whole future.
    rows = np.flatnonzero((position >= window - 1) & np.isfinite(future).all(axis=1))
    model = contender_model(random_state, season, **overrides)
    model.fit(windows[rows], future[rows])
    return model.predict(windows[ends]).reshape(len(series), horizon)
