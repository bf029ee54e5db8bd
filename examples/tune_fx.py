"""
Tuning layers and units with Optuna
===================================

Tune the layers and units of an LSTM on EUR/USD with Optuna, then check it on a hold-out.

Target: the next business day's log return of EUR/USD (the package's recommendation for
prices: returns are stationary, levels leave the training range). The level forecast is
today's rate x exp(predicted return); the naive baseline is "tomorrow = today" (zero return).
Optuna searches the number of layers, units, dropout, learning rate and window with
TimeSeriesSplit cross-validation on the first 80% of the days and prunes trials epoch by epoch.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the search runs 3 trials of at most 2 epochs, so the figures
printed on this page are not the documented ones, which come from the full run.

Run:  python examples/tune_fx.py [--n-trials N] [--output-dir DIR] [--save-results]
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
from _settings import PLOTS, arguments, fast, save, setup
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.exceptions import ExperimentalWarning
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.datasets import load_eurusd
from tsforecast.model_selection import LayerUnits, OptunaSearchCV


def rmse(error: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(error))))


# %%
# The search: 12 trials (3 in the docs build), pruned epoch by epoch, on the first 80% of the
# last ~12 years of days.
setup()
parser = arguments(__doc__, max_epochs=12, saves=True)
parser.add_argument("--n-trials", type=int, default=fast(12, 3))
parser.add_argument("--output-dir", type=Path, default=PLOTS)
args = parser.parse_args()

rates = load_eurusd().iloc[-3000:]  # the last ~12 years keep the search short
returns = np.log(rates).diff().dropna()
X, y = make_supervised(returns, target="USD", horizon=1)
split = int(len(X) * 0.8)
X_train, X_test, y_train, y_test = (
    X.iloc[:split],
    X.iloc[split:],
    y.iloc[:split],
    y.iloc[split:],
)

pipe = make_pipeline(
    StandardScaler(),
    SlidingWindowTransformer(window=20),
    LSTMRegressor(max_epochs=args.max_epochs, patience=3, batch_size=64, random_state=0),
).set_output(transform="pandas")
space = {
    "lstmregressor__num_layers": IntDistribution(1, 3),
    "lstmregressor__units": LayerUnits(8, 64),
    "lstmregressor__dropout": FloatDistribution(0.0, 0.4),
    "lstmregressor__learning_rate": FloatDistribution(3e-4, 1e-2, log=True),
    "slidingwindowtransformer__window": IntDistribution(5, 40),
}
search = OptunaSearchCV(
    pipe,
    space,
    n_trials=args.n_trials,
    cv=TimeSeriesSplit(3),
    scoring="neg_root_mean_squared_error",
    random_state=0,
)
start = time.perf_counter()
search.fit(X_train, y_train)
seconds = time.perf_counter() - start
states = search.study_.trials_dataframe()["state"].value_counts().to_dict()
print(f"EUR/USD daily log returns: {len(X_train)} training days, {len(X_test)} test days")
print(f"search: {args.n_trials} trials in {seconds:.0f} s {states}")
print("best parameters:")
for name, value in search.best_params_.items():
    print(f"  {name} = {value}")
print(f"best cross-validated RMSE of returns: {-search.best_score_:.6f}")

# %%
# The tuned model on the hold-out (the last 20% of the days), against the naive forecast.
predicted = search.predict(X_test)
today = rates["USD"].loc[X_test.index].to_numpy()
tomorrow = today * np.exp(y_test.to_numpy())
model_rmse = rmse(tomorrow - today * np.exp(predicted))
naive_rmse = rmse(tomorrow - today)
print("hold-out, EUR/USD level one day ahead:")
print(f"  tuned LSTM          RMSE {model_rmse:.6f}")
print(f"  naive (last value)  RMSE {naive_rmse:.6f}")
print(f"  ratio               {model_rmse / naive_rmse:.4f}")
print(f"  return RMSE: LSTM {rmse(y_test - predicted):.6f}, zero return {rmse(y_test):.6f}")
if args.save_results:
    save(
        "tune_fx",
        {
            "trials": args.n_trials,
            "search_seconds": seconds,
            "states": states,
            "best_params": {
                k: list(v) if isinstance(v, tuple) else v for k, v in search.best_params_.items()
            },
            "best_cv_rmse": -search.best_score_,
            "train_days": len(X_train),
            "test_days": len(X_test),
            "holdout_rmse": model_rmse,
            "naive_rmse": naive_rmse,
            "ratio": model_rmse / naive_rmse,
        },
    )

# %%
# Optuna's own pictures of the study: the best score over the trials, and which parameters
# mattered.
try:
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization.matplotlib import (
        plot_optimization_history,
        plot_param_importances,
    )
except ImportError:
    print("matplotlib not installed: no plots saved")
else:
    warnings.filterwarnings("ignore", category=ExperimentalWarning)  # Optuna's plots
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, plot in (
        ("history", plot_optimization_history),
        ("importance", plot_param_importances),
    ):
        axes = plot(search.study_)
        path = args.output_dir / f"tune_fx_{name}.png"
        axes.figure.savefig(path, dpi=100, bbox_inches="tight")
        print(f"saved {path}")
