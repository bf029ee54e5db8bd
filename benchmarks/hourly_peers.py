"""Peers on the hourly example: darts' BlockRNNModel and neuralforecast's LSTM against
tsforecast's LSTM.

The example's task (``examples/hourly_weather.py``): at every hour of the test period (the
last 20% of the shipped Greensboro year), forecast the next 24 hours directly from a 48-hour
window of the target, the hour of day and the solar inputs (clear sky now and 24 hours
ahead); RMSE averaged over the 24 horizons, irradiance clipped at zero. Same inputs, window,
forecast origins and network for both libraries: one LSTM layer of 64 units, Adam at 1e-3,
batch 32, at most 30 epochs, stopped after 5 without a better loss on the last tenth of the
training period, keeping the best epoch (darts: its best checkpoint). Inputs and target are
standardized on the training period (tsforecast: ``StandardScaler`` in its pipeline and the
estimator's target scaling; darts: its ``Scaler``). neuralforecast counts steps, not epochs,
and trains on 128 windows a step (its ``windows_batch_size``): about the number of windows
of 30 epochs, validated every 100 steps, stopped after 5 checks without improvement, its
``LSTM`` with one 64-unit encoder layer and its own MLP decoder, MSE loss. Two differences
that library does not let us remove: its early stopping keeps the last weights, not the
best, and its ``scaler_type="standard"`` scales each window on the window's own statistics.

Each peer runs where it is installed, tsforecast everywhere:
    .venv-clients/bin/python -m benchmarks.hourly_peers     # darts (make test-clients)
    pip install -e ".[neuralforecast]"; python -m benchmarks.hourly_peers

``--save-results`` writes what ran to ``benchmarks/results/hourly_peers.json`` (the figures
the docs quote), with the environment (the peers' versions among it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised

from ._harness import write
from .hourly_design import HORIZON, WINDOW, hourly_inputs, score

UNITS, EPOCHS, PATIENCE, BATCH, RATE = 64, 30, 5, 32, 1e-3


def tsforecast_forecasts(
    data: pd.DataFrame, target: str, linear_skip: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and targets of the test origins."""
    X, y = make_supervised(data, target, horizon=range(1, HORIZON + 1))
    split = int(0.8 * len(X))
    model = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=WINDOW),
        LSTMRegressor(
            units=UNITS,
            max_epochs=EPOCHS,
            patience=PATIENCE,
            batch_size=BATCH,
            learning_rate=RATE,
            validation_fraction=0.1,
            linear_skip=linear_skip,
            random_state=0,
        ),
    )
    model.fit(X.iloc[: split - HORIZON], y.iloc[: split - HORIZON])
    return model.predict(X)[split:], y.to_numpy()[split:]


def darts_forecasts(data: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and targets of the test origins."""
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel
    from darts.utils.serialization import safe_globals
    from lightning.pytorch.callbacks import EarlyStopping

    n_rows = len(data) - HORIZON  # forecast origins with a whole 24-hour target
    split = int(0.8 * n_rows)
    series = TimeSeries.from_dataframe(data[[target]].astype(np.float32))
    covariates = TimeSeries.from_dataframe(data.drop(columns=target).astype(np.float32))
    # Training targets end at the first forecast origin, as in the example.
    train_end = split
    val_start = int(0.9 * train_end)
    scale_y = Scaler(StandardScaler()).fit(series[:train_end])
    scale_x = Scaler(StandardScaler()).fit(covariates[:train_end])
    y, x = scale_y.transform(series), scale_x.transform(covariates)
    with tempfile.TemporaryDirectory() as work_dir:
        model = BlockRNNModel(
            input_chunk_length=WINDOW,
            output_chunk_length=HORIZON,
            model="LSTM",
            hidden_dim=UNITS,
            n_rnn_layers=1,
            batch_size=BATCH,
            n_epochs=EPOCHS,
            optimizer_kwargs={"lr": RATE},
            random_state=0,
            save_checkpoints=True,
            force_reset=True,
            work_dir=work_dir,
            model_name="peer",
            pl_trainer_kwargs={
                "accelerator": "cpu",
                "enable_progress_bar": False,
                "enable_model_summary": False,
                "logger": False,
                "callbacks": [EarlyStopping("val_loss", patience=PATIENCE)],
            },
        )
        model.fit(
            y[:val_start],
            past_covariates=x,
            val_series=y[val_start - WINDOW : train_end],
            val_past_covariates=x,
        )
        with safe_globals([EarlyStopping]):  # the checkpoint this function just wrote
            model = BlockRNNModel.load_from_checkpoint("peer", work_dir=work_dir, best=True)
        forecasts = model.historical_forecasts(
            y,
            past_covariates=x,
            start=series.time_index[split + 1],
            forecast_horizon=HORIZON,
            stride=1,
            retrain=False,
            last_points_only=False,
            verbose=False,
        )
    assert forecasts[0].start_time() == series.time_index[split + 1]  # the same first origin
    pred = np.stack([scale_y.inverse_transform(f).values()[:, 0] for f in forecasts])
    values = data[target].to_numpy()
    origins = np.arange(split, split + len(pred))
    truth = np.stack([values[t + 1 : t + HORIZON + 1] for t in origins])
    return pred, truth


def neuralforecast_forecasts(data: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and targets of the test origins."""
    from neuralforecast import NeuralForecast
    from neuralforecast.losses.pytorch import MSE
    from neuralforecast.models import LSTM

    n_rows = len(data) - HORIZON
    split = int(0.8 * n_rows)
    frame = data.rename(columns={target: "y"}).rename_axis("ds").reset_index()
    frame.insert(0, "unique_id", target)
    exogenous = [c for c in data.columns if c != target]
    test_size = len(data) - 1 - split  # forecast origins split .. n - 1 - HORIZON
    train_windows = split - WINDOW - HORIZON
    model = LSTM(
        h=HORIZON,
        input_size=WINDOW,
        encoder_n_layers=1,
        encoder_hidden_size=UNITS,
        hist_exog_list=exogenous,
        loss=MSE(),
        learning_rate=RATE,
        max_steps=EPOCHS * train_windows // 128,
        val_check_steps=100,
        early_stop_patience_steps=PATIENCE,
        windows_batch_size=128,
        batch_size=BATCH,
        scaler_type="standard",
        random_seed=0,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
    )
    forecasts = NeuralForecast(models=[model], freq="h").cross_validation(
        frame, val_size=split // 10, test_size=test_size, step_size=1, n_windows=None
    )
    forecasts = forecasts.sort_values(["cutoff", "ds"])
    assert forecasts["cutoff"].iloc[0] == data.index[split]  # the same first origin
    pred = forecasts["LSTM"].to_numpy().reshape(-1, HORIZON)
    values = data[target].to_numpy()
    origins = np.arange(split, split + len(pred))
    truth = np.stack([values[t + 1 : t + HORIZON + 1] for t in origins])
    return pred, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--save-results", action="store_true", help="write benchmarks/results/hourly_peers.json"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    torch.set_num_threads(1)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    contenders = {
        "tsforecast LSTM": lambda data, target: tsforecast_forecasts(data, target, False),
        "tsforecast LSTM + linear skip": lambda data, target: tsforecast_forecasts(
            data, target, True
        ),
        "darts BlockRNNModel (LSTM)": darts_forecasts,
        "neuralforecast LSTM": neuralforecast_forecasts,
    }
    results: dict = {}
    for target in ("temperature", "ghi"):
        data = hourly_inputs(target, solar=True)
        reference = None
        for name, run in contenders.items():
            start = time.perf_counter()
            try:
                pred, truth = run(data, target)
            except ImportError as exc:
                print(f"{target}: {name}: not installed here ({exc.name})")
                results.setdefault("not_installed", {})[name] = exc.name
                continue
            if reference is not None:  # the same forecast origins and targets for everyone
                np.testing.assert_array_equal(truth, reference)
            reference = truth
            rmse = score(truth, pred, 0.0 if target == "ghi" else -np.inf)  # GHI is never < 0
            seconds = time.perf_counter() - start
            print(
                f"{target}: {name}: RMSE {rmse:.4g} over {len(truth)} forecasts ({seconds:.0f} s)",
                flush=True,
            )
            results.setdefault("rmse", {}).setdefault(name, {})[target] = rmse
            results.setdefault("seconds", {}).setdefault(name, {})[target] = seconds
            results["forecasts"] = len(truth)
    if args.save_results:
        python = f"{Path(sys.prefix).name}/bin/python"  # .venv or .venv-clients
        command = " ".join([python, "-m benchmarks.hourly_peers", *sys.argv[1:]])
        path = write(
            "hourly_peers",
            {
                "suite": "hourly_peers",
                "quick": False,
                "command": command,
                "seconds": time.perf_counter() - began,
                "results": results,
            },
        )
        print(f"results saved to {path}")


if __name__ == "__main__":
    main()
