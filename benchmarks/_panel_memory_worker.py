"""One panel memory measurement in a fresh process.

``python -m benchmarks._panel_memory_worker CONTENDER N_SERIES N_STEPS WINDOW N_COVARIATES``
prints one JSON line: resident memory with the input DataFrame loaded, the peak while
windowing and fitting a fixed number of optimizer steps, and the input's own size.

The estimators do not take lazy windows yet (the wiring is the lead's): ``LazyPanelRegressor``
below and the ``per_epoch`` passed to ``Batches`` are that wiring, as proposed, so that the
figures are those of the real fit path.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import tsforecast.estimators._base
from tsforecast import LSTMRegressor
from tsforecast._data.lazy import WindowArray, panel_windows
from tsforecast._data.windows import Batches, Windows
from tsforecast.estimators._validation import check_values
from tsforecast.preprocessing import PanelWindowTransformer

UNITS, BATCH, CHUNKS = 16, 256, 2  # 2 Lightning batches of 16 minibatches: 32 optimizer steps
WINDOWS_PER_EPOCH = CHUNKS * 16 * BATCH


class LazyPanelRegressor(LSTMRegressor):
    """LSTMRegressor whose input validation keeps a WindowArray lazy (the proposed wiring)."""

    def _validate_X(self, X: Any, *, reset: bool) -> Windows:
        if not isinstance(X, WindowArray):
            return super()._validate_X(X, reset=reset)
        self._check_n_features(X.shape[2], reset=reset)
        if reset:
            self._input_ndim = 3
        windows = Windows.from_window_array(X)
        check_values(windows, warn_unscaled=type(self).__name__ if reset else None)
        return windows


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # MB
    raise KeyError(field)


def _panel(n_series: int, n_steps: int, n_covariates: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Long format, interleaved by time step (as a melt of a wide table gives): an ``id``
    categorical, the series ``x`` and covariates (float32), and the next value as target."""
    rng = np.random.default_rng(0)
    ids = pd.Categorical.from_codes(
        np.tile(np.arange(n_series, dtype=np.int32), n_steps), [f"s{k}" for k in range(n_series)]
    )
    columns: dict[str, Any] = {"id": ids}
    columns["x"] = rng.standard_normal(n_series * n_steps, dtype=np.float32)
    for k in range(n_covariates):
        columns[f"c{k}"] = rng.standard_normal(n_series * n_steps, dtype=np.float32)
    target = rng.standard_normal(n_series * n_steps, dtype=np.float32)
    return pd.DataFrame(columns), target


def _estimator(cls: type[LSTMRegressor]) -> LSTMRegressor:
    return cls(
        units=UNITS,
        batch_size=BATCH,
        max_epochs=1,
        validation_fraction=0.0,
        standardize_target=False,
        accelerator="cpu",
        random_state=0,
        trainer_kwargs={"limit_train_batches": CHUNKS},
    )


def main(name: str, n_series: int, n_steps: int, window: int, n_covariates: int) -> None:
    torch.set_num_threads(2)
    if name == "single series, lazy (3-D view)":
        from numpy.lib.stride_tricks import sliding_window_view

        n_rows = n_series * n_steps
        rng = np.random.default_rng(0)
        series = rng.standard_normal((n_rows + window - 1, 1 + n_covariates), dtype=np.float32)
        target = rng.standard_normal(n_rows, dtype=np.float32)
        data_mb = (series.nbytes + target.nbytes) / 2**20
    else:
        frame, target = _panel(n_series, n_steps, n_covariates)
        data_mb = (frame.memory_usage(deep=True).sum() + target.nbytes) / 2**20
    baseline = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    if name == "single series, lazy (3-D view)":
        windows = sliding_window_view(series, window, axis=0).transpose(0, 2, 1)
        _estimator(LSTMRegressor).fit(windows, target)
    elif name == "panel, materialised (PanelWindowTransformer)":
        dense = PanelWindowTransformer(group="id", window=window).fit_transform(frame)
        _estimator(LSTMRegressor).fit(dense, target)
    elif name.startswith("panel, lazy"):
        features = frame.drop(columns="id")
        lazy = panel_windows(features, frame["id"].cat.codes.to_numpy(), window)
        if "sampled" in name:
            tsforecast.estimators._base.Batches = functools.partial(
                Batches, per_epoch=WINDOWS_PER_EPOCH
            )
        _estimator(LazyPanelRegressor).fit(lazy, target)
    else:
        raise ValueError(name)
    peak = _status("VmHWM")
    print(
        json.dumps(
            {
                "contender": name,
                "n_series": n_series,
                "n_steps": n_steps,
                "window": window,
                "n_features": 1 + n_covariates,
                "rows": n_series * n_steps,
                "input_mb": data_mb,
                "with_input_mb": baseline,
                "fit_added_mb": peak - baseline,
                "added_vs_input": (peak - baseline) / data_mb,
                "process_peak_mb": peak,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
