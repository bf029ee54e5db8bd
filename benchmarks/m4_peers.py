"""The M4 benchmark's peers: statsforecast and neuralforecast, with their documented settings.

Each function takes the training series (oldest first), the horizon and the season, and
returns the forecasts ``(n_series, horizon)``. They run in the peers' own environment
(``make m4peers``; both libraries pin pandas < 3), one process each (``benchmarks.m4``).

- statsforecast ``MSTL`` (seasons ``season`` and a week, ``7 * season``; its default trend
  forecaster) and ``AutoETS`` (``season_length=season``, model chosen by AICc), and
  ``AutoARIMA`` as time allows (slow on 414 series of 700+ values).
- neuralforecast ``LSTM`` (input ``7 * season``) and ``NHITS`` (input ``14 * season``, the
  pooling and downsampling of its M4-hourly configuration), both with ``scaler_type="robust"``
  and early stopping on the last ``horizon`` training values (``val_size=horizon``): the
  library keeps the last weights when it stops.
"""

from __future__ import annotations

import logging
import os
import warnings

import numpy as np
import pandas as pd


def _frame(train: list[np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(len(train)), [len(s) for s in train]),
            "ds": np.concatenate([np.arange(1, len(s) + 1) for s in train]),
            "y": np.concatenate(train),
        }
    )


def _wide(forecasts: pd.DataFrame, column: str, n_series: int, horizon: int) -> np.ndarray:
    forecasts = forecasts.reset_index() if "unique_id" not in forecasts else forecasts
    forecasts = forecasts.sort_values(["unique_id", "ds"])
    values = forecasts[column].to_numpy(dtype=np.float64)
    return values.reshape(n_series, horizon)


def _statsforecast(model, train: list[np.ndarray], horizon: int) -> np.ndarray:
    from statsforecast import StatsForecast

    forecasts = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(
        df=_frame(train), h=horizon
    )
    return _wide(forecasts, str(model), len(train), horizon)


def mstl(train: list[np.ndarray], horizon: int, season: int) -> np.ndarray:
    """statsforecast's MSTL, seasons of a day and a week."""
    from statsforecast.models import MSTL

    return _statsforecast(MSTL(season_length=[season, 7 * season]), train, horizon)


def autoets(train: list[np.ndarray], horizon: int, season: int) -> np.ndarray:
    """statsforecast's AutoETS."""
    from statsforecast.models import AutoETS

    return _statsforecast(AutoETS(season_length=season), train, horizon)


def autoarima(train: list[np.ndarray], horizon: int, season: int) -> np.ndarray:
    """statsforecast's AutoARIMA."""
    from statsforecast.models import AutoARIMA

    return _statsforecast(AutoARIMA(season_length=season), train, horizon)


def _neuralforecast(model, train: list[np.ndarray], horizon: int) -> np.ndarray:
    from neuralforecast import NeuralForecast

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecast = NeuralForecast(models=[model], freq=1)
        forecast.fit(_frame(train), val_size=horizon)
        forecasts = forecast.predict()
    return _wide(forecasts, type(model).__name__, len(train), horizon)


_TRAINER = {
    "accelerator": "cpu",
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "logger": False,
}


def nf_lstm(train: list[np.ndarray], horizon: int, season: int) -> np.ndarray:
    """neuralforecast's LSTM: a week of input, robust scaling, early stopping."""
    from neuralforecast.models import LSTM

    model = LSTM(
        h=horizon,
        input_size=7 * season,
        scaler_type="robust",
        max_steps=1000,
        val_check_steps=50,
        early_stop_patience_steps=5,
        random_seed=0,
        **_TRAINER,
    )
    return _neuralforecast(model, train, horizon)


def nf_nhits(train: list[np.ndarray], horizon: int, season: int) -> np.ndarray:
    """neuralforecast's NHITS: two weeks of input, robust scaling, early stopping."""
    from neuralforecast.models import NHITS

    model = NHITS(
        h=horizon,
        input_size=14 * season,
        n_pool_kernel_size=[2, 2, 2],
        n_freq_downsample=[season, season // 2 or 1, 1],
        scaler_type="robust",
        max_steps=1000,
        val_check_steps=50,
        early_stop_patience_steps=5,
        random_seed=0,
        **_TRAINER,
    )
    return _neuralforecast(model, train, horizon)
