"""Workload (a) with peer libraries, as ratios to tsforecast: skorch, and darts when installed.

Peers are benchmark-only dependencies (``pip install -e .[bench]`` installs skorch; darts is
used when importable). Each peer gets the same network shape, data, batch size, epochs and
optimizer.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import warnings

import numpy as np
import torch

from ._harness import interleaved, summarize
from ._workloads import WORKLOADS, BareLSTM, sp500_windows, tsforecast_regressor


def _skorch(w):
    from skorch import NeuralNetRegressor

    return NeuralNetRegressor(
        BareLSTM,
        module__n_features=1,
        module__units=w.units,
        module__num_layers=w.num_layers,
        optimizer=torch.optim.Adam,
        lr=w.learning_rate,
        batch_size=w.batch_size,
        max_epochs=w.epochs,
        train_split=None,
        iterator_train__shuffle=True,  # as tsforecast and the bare loop
        verbose=0,
        device="cpu",
    )


def _darts_fit_predict(w, series: np.ndarray, n_predict: int) -> None:
    from darts import TimeSeries
    from darts.models import BlockRNNModel

    model = BlockRNNModel(
        input_chunk_length=w.window,
        output_chunk_length=1,
        model="LSTM",
        hidden_dim=w.units,
        n_rnn_layers=w.num_layers,
        batch_size=w.batch_size,
        n_epochs=w.epochs,
        optimizer_kwargs={"lr": w.learning_rate},
        random_state=0,
        pl_trainer_kwargs={
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": False,
        },
    )
    ts = TimeSeries.from_values(series)
    model.fit(ts, verbose=False)
    return model


def _peak_rss_mb(code: str) -> float:
    """Peak resident memory (VmHWM, which exec resets) of a fresh process running ``code``."""
    script = (
        "import warnings, logging\nwarnings.filterwarnings('ignore')\n"
        "logging.disable(logging.INFO)\n" + code + "\n"
        "from benchmarks._memory_worker import _status\nprint(_status('VmHWM'))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(rounds: int) -> dict:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    w = WORKLOADS["a"]
    X, y = sp500_windows(w.window)
    one = X[-1:]
    fitted = {"tsforecast": tsforecast_regressor(w).fit(X, y)}
    fits = {"tsforecast": lambda: tsforecast_regressor(w).fit(X, y)}
    predicts = {"tsforecast": lambda: fitted["tsforecast"].predict(one)}
    setup = {
        "tsforecast": "from benchmarks.peers import _darts_fit_predict, _skorch\n"
        "from benchmarks._workloads import WORKLOADS, sp500_windows, tsforecast_regressor\n"
        "w = WORKLOADS['a']; X, y = sp500_windows(w.window); tsforecast_regressor(w).fit(X, y)"
    }
    if importlib.util.find_spec("skorch"):
        fitted["skorch"] = _skorch(w).fit(X, y[:, None])
        fits["skorch"] = lambda: _skorch(w).fit(X, y[:, None])
        predicts["skorch"] = lambda: fitted["skorch"].predict(one)
        setup["skorch"] = setup["tsforecast"].replace(
            "tsforecast_regressor(w).fit(X, y)", "_skorch(w).fit(X, y[:, None])"
        )
    if importlib.util.find_spec("darts"):
        series = np.concatenate([X[0, :, 0], y]).astype(np.float32)
        fitted["darts"] = _darts_fit_predict(w, series, 1)
        fits["darts"] = lambda: _darts_fit_predict(w, series, 1)
        predicts["darts"] = lambda: fitted["darts"].predict(1, verbose=False)
        setup["darts"] = setup["tsforecast"].replace(
            "tsforecast_regressor(w).fit(X, y)",
            "import numpy as np; s = np.concatenate([X[0, :, 0], y]).astype(np.float32); "
            "_darts_fit_predict(w, s, 1)",
        )
    fit_times = interleaved(fits, rounds=rounds, warmup=0)
    predict_times = interleaved(predicts, rounds=200, warmup=10)
    return {
        "workload": w.name,
        "fit": summarize(fit_times, "tsforecast"),
        "single-window predict": summarize(predict_times, "tsforecast"),
        "peak_rss_mb": {name: _peak_rss_mb(code) for name, code in setup.items()},
    }
