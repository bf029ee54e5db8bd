"""Design choices for hourly data, measured on the inner split of examples/hourly_weather.py.

Same data, window, horizons and features as the example, scored (RMSE averaged over the 24
horizons, irradiance clipped at zero) on the last 20% of its training period after training on
the rest; the test period is never read. Variants of a 1 x 64 LSTM (up to 60 epochs, patience
8): the last-state head (the package's), the head of darts and neuralforecast (the 24 outputs
from the last 24 hidden states through one shared layer), and the linear skip fixed at its
ridge start (the package's) or trained jointly with the LSTM.

Both input sets are measured: the window and hour of day alone ("plain"), and with the
example's solar inputs added ("solar"). One torch thread.

Run:  python -m benchmarks.hourly_design [--target ghi] [--variant joint_skip ...]
      [--inputs solar] [--max-epochs N] [--save-results]

``--save-results`` writes the figures to ``benchmarks/results/hourly_design.json`` (the
figures the docs quote, with the settings and the environment they were measured in).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import RidgeCV
from sklearn.metrics import root_mean_squared_error
from sklearn.preprocessing import StandardScaler
from torch import nn

from tsforecast import LSTMRegressor
from tsforecast._nn.network import StackedRNN
from tsforecast.datasets import load_hourly_weather
from tsforecast.preprocessing import calendar_features, clear_sky_irradiance

from ._harness import write

WINDOW, HORIZON = 48, 24
MAX_EPOCHS, PATIENCE = 60, 8
VARIANTS = ("last_state", "shared_layer", "fixed_skip", "joint_skip")


class SharedLayerHead(StackedRNN):
    """Output ``h`` is ``shared(hidden state at step T - HORIZON + h)`` (+ the skip, if any)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, T, F) -> (B, HORIZON)
        seq = x
        for rnn in self.groups:
            seq, _ = rnn(seq)
        return self.shared(self.dropout(seq[:, -HORIZON:])).squeeze(-1)


class Variant(LSTMRegressor):
    """LSTMRegressor with the network of one variant (``variant`` is a plain attribute)."""

    variant = "last_state"

    def _build_network(self, n_features: int) -> StackedRNN:
        network = super()._build_network(n_features)
        if self.variant == "shared_layer":
            network.__class__ = SharedLayerHead
            network.shared = nn.Linear(self._architecture["units"][-1], 1)
        return network

    def _initial_network(self, *args):  # type: ignore[no-untyped-def]
        network = super()._initial_network(*args)
        if self.variant == "joint_skip":  # the skip's buffers become trained parameters
            for name in ("skip_weight", "skip_bias"):
                setattr(network, name, nn.Parameter(network._buffers.pop(name)))
        return network


def hourly_inputs(target: str, solar: bool) -> pd.DataFrame:
    """The example's inputs: the target, the hour of day and, with ``solar``, its solar
    inputs (clear sky at Greensboro now and 24 hours ahead; the index is UTC-5)."""
    weather = load_hourly_weather()
    data = weather[[target]].join(calendar_features(weather.index, ("hour",)))
    if solar:
        for name, shift in (("clear_sky", 0), ("clear_sky_in_24h", HORIZON)):
            times = weather.index + pd.Timedelta(hours=shift)
            data[name] = clear_sky_irradiance(times, 36.1, -79.95, utc_offset=-5).to_numpy()
    return data


def inner_split(target: str, solar: bool) -> tuple[np.ndarray, ...]:
    data = hourly_inputs(target, solar)
    n_rows = len(data) - HORIZON  # rows with a full 24-h target
    split, y = int(0.8 * n_rows), data[target].to_numpy()
    inner = int(0.8 * split)
    values = StandardScaler().fit(data.iloc[:inner]).transform(data).astype(np.float32)

    def rows(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        t = np.arange(max(start, WINDOW - 1), stop)
        X = np.stack([values[i - WINDOW + 1 : i + 1] for i in t])
        return X, np.stack([y[i + 1 : i + HORIZON + 1] for i in t])

    return (*rows(0, inner - HORIZON), *rows(inner, split - HORIZON))


def score(truth: np.ndarray, pred: np.ndarray, clip: float) -> float:
    """RMSE of each horizon, averaged over the horizons, of forecasts clipped at ``clip``."""
    errors = root_mean_squared_error(truth, np.maximum(pred, clip), multioutput="raw_values")
    return float(np.mean(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("temperature", "ghi"), nargs="+")
    parser.add_argument("--variant", choices=VARIANTS, nargs="+", default=list(VARIANTS))
    parser.add_argument(
        "--inputs",
        choices=("plain", "solar"),
        nargs="+",
        default=["plain", "solar"],
        help="the window and hour of day alone, and/or with the example's solar inputs",
    )
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS)
    parser.add_argument(
        "--save-results", action="store_true", help="write benchmarks/results/hourly_design.json"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    torch.set_num_threads(1)
    results: dict = {"max_epochs": args.max_epochs, "patience": PATIENCE, "rmse": {}, "epochs": {}}
    for target in args.target or ("temperature", "ghi"):
        for inputs in args.inputs:
            X, Y, X_val, Y_val = inner_split(target, inputs == "solar")
            clip = 0.0 if target == "ghi" else -np.inf  # irradiance is never negative
            ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X.reshape(len(X), -1), Y)
            baseline = score(Y_val, ridge.predict(X_val.reshape(len(X_val), -1)), clip)
            print(f"{target}, {inputs}: RidgeCV, same window {baseline:.4g}", flush=True)
            rmse = results["rmse"].setdefault(target, {}).setdefault(inputs, {})
            epochs = results["epochs"].setdefault(target, {}).setdefault(inputs, {})
            rmse["ridge"] = baseline
            for variant in args.variant:
                model = Variant(
                    units=64,
                    max_epochs=args.max_epochs,
                    patience=PATIENCE,
                    linear_skip=variant.endswith("skip"),
                    random_state=0,
                )
                model.variant = variant
                model.fit(X, Y)
                rmse[variant] = score(Y_val, model.predict(X_val), clip)
                epochs[variant] = model.n_iter_
                print(
                    f"{target}, {inputs}: {variant} {rmse[variant]:.4g} ({model.n_iter_} epochs)",
                    flush=True,
                )
    if args.save_results:
        python = f"{Path(sys.prefix).name}/bin/python"  # .venv or .venv-clients
        command = " ".join([python, "-m benchmarks.hourly_design", *sys.argv[1:]])
        path = write(
            "hourly_design",
            {
                "suite": "hourly_design",
                "quick": False,
                "command": command,
                "seconds": time.perf_counter() - start,
                "results": results,
            },
        )
        print(f"results saved to {path}")


if __name__ == "__main__":
    main()
