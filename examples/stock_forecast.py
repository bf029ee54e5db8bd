"""
Forecasting the S&P 500 honestly
================================

Forecast the S&P 500 with an LSTM, honestly: always next to the naive baselines.

1. Next-day close with the recommended pipeline. The LSTM never sees a price level: a
   ``ReturnsTransformer`` turns close into log changes and volume into log1p changes
   (volumes may be zero), and a ``RelativeTargetRegressor`` trains on
   ``log(close(t+1) / close(t))`` and turns forecasts back into prices. Chronological
   hold-out: the last 20% of the days, whose prices lie far above the training range.
2. Direct multi-step forecasts, 1 to 5 days ahead, by one multi-output model.
3. A walk-forward backtest: refit every 250 days on all the past, forecast the next 250.
4. An up/down direction classifier against the majority class.
5. Risk: tomorrow's variance, an LSTM trained with QLIKE against GARCH(1, 1) and EWMA, with
   Diebold-Mariano tests (``examples/volatility.py`` has the full comparison).

Also: 80% prediction intervals from a quantile-loss LSTM with their empirical coverage, and
plots of the forecast, the training history and the backtest errors.

Daily index returns are close to unpredictable: expect ties with the naive forecast. A result
far better than naive would be a leak until proven otherwise.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTMs train for at most 2 epochs, so the figures printed on
this page are not the documented ones, which come from the full run.

Run:  python examples/stock_forecast.py [--output-dir DIR] [--max-epochs N] [--save-results]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _settings import PLOTS, arguments, save, setup
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.baselines import DriftForecaster, NaiveForecaster
from tsforecast.compose import RelativeTargetRegressor
from tsforecast.datasets import load_sp500
from tsforecast.metrics import (
    diebold_mariano,
    directional_accuracy,
    mean_absolute_scaled_error,
    qlike,
)
from tsforecast.model_selection import WalkForwardSplit, backtest
from tsforecast.plotting import plot_backtest, plot_forecast, plot_history
from tsforecast.preprocessing import ReturnsTransformer, garman_klass_variance, squared_returns
from tsforecast.volatility import EWMAVarianceForecaster, GARCHForecaster

WINDOW = 30


def price_model(max_epochs: int, **lstm: Any) -> RelativeTargetRegressor:
    """The recommended pipeline for price levels."""
    return RelativeTargetRegressor(
        make_pipeline(
            ReturnsTransformer(kind={"Volume": "log1p"}),  # volumes may be zero
            StandardScaler(),
            SlidingWindowTransformer(window=WINDOW),
            LSTMRegressor(
                units=32,
                num_layers=2,
                dropout=0.1,
                max_epochs=max_epochs,
                patience=5,
                learning_rate=1e-3,
                random_state=0,
                **lstm,
            ),
        ),
        reference="Close",
    )


def baseline(estimator: NaiveForecaster | DriftForecaster) -> Pipeline:
    """A baseline reading the same windows of close prices (feature 0), unscaled."""
    return make_pipeline(SlidingWindowTransformer(window=WINDOW), estimator)


def report(
    rows: dict[str, np.ndarray], truth: np.ndarray, last: np.ndarray, train: np.ndarray
) -> dict[str, dict[str, float | None]]:
    """Print each forecast's errors next to the naive forecast's; return them."""
    naive_rmse = root_mean_squared_error(truth, last)
    print(f"{'forecast':<24}{'RMSE':>9}{'MAE':>9}{'MASE':>7}{'vs naive':>10}{'direction':>11}")
    scores = {}
    for name, pred in rows.items():
        rmse = root_mean_squared_error(truth, pred)
        mase = mean_absolute_scaled_error(truth, pred, y_train=train)
        moved = (
            None if np.allclose(pred, last) else directional_accuracy(truth, pred, reference=last)
        )
        direction = "-" if moved is None else f"{moved:.3f}"
        mae = mean_absolute_error(truth, pred)
        print(
            f"{name:<24}{rmse:>9.3f}{mae:>9.3f}{mase:>7.3f}"
            f"{rmse / naive_rmse:>10.4f}{direction:>11}"
        )
        scores[name] = {
            "rmse": rmse,
            "mae": mae,
            "mase": mase,
            "rmse_vs_naive": rmse / naive_rmse,
            "direction": moved,
        }
    return scores


def risk_forecast(max_epochs: int) -> dict[str, dict[str, float]]:
    """Tomorrow's variance of the daily return (percent²) on the last 20% of the days."""
    ohlc = load_sp500()
    variance = 1e4 * squared_returns(ohlc["Close"], tick=0.01)
    returns = 100 * np.log(ohlc["Close"]).diff().iloc[1:]
    range_variance = np.log(1e4 * garman_klass_variance(ohlc).iloc[1:])
    days = pd.DataFrame({"ret": returns, "range": range_variance})
    windows = SlidingWindowTransformer(window=250).fit_transform(days)[249:-1]
    target = variance.to_numpy()[250:]
    split = int(0.8 * len(target))
    truth = target[split:]
    forecasts = {
        name: model.fit(windows[:split], target[:split]).predict(windows[split:])
        for name, model in [
            ("GARCH(1, 1)", GARCHForecaster()),
            ("EWMA 0.94", EWMAVarianceForecaster()),
        ]
    }
    lstm = LSTMRegressor(
        loss="qlike",
        units=16,
        max_epochs=max_epochs,
        patience=5,
        learning_rate=3e-3,
        batch_size=128,
        random_state=0,
    )
    recent = windows[:, -60:].astype(np.float32)
    forecasts["LSTM, QLIKE"] = lstm.fit(recent[:split], target[:split]).predict(recent[split:])
    losses = {name: qlike(truth, forecast, per_sample=True) for name, forecast in forecasts.items()}
    print("Risk: next-day variance of the return, hold-out QLIKE (lower is better):")
    scores = {}
    for name, loss in losses.items():
        scores[name] = {"qlike": float(loss.mean())}
        versus = ""
        if not name.startswith("GARCH"):
            test = diebold_mariano(loss, losses["GARCH(1, 1)"], loss="precomputed")
            versus = f", DM vs GARCH {test.statistic:+.2f} (p={test.pvalue:.3f})"
            scores[name] |= {"dm_vs_garch": float(test.statistic), "pvalue": float(test.pvalue)}
        print(f"  {name:<14}{loss.mean():.4f}{versus}")
    tomorrow = forecasts["LSTM, QLIKE"][-1]
    print(
        f"  The LSTM's forecast for the last test day: daily volatility {np.sqrt(tomorrow):.2f}%, "
        f"a 1-day 99% normal VaR of {2.326 * np.sqrt(tomorrow):.2f}% of the position."
    )
    return scores


# %%
# 1. Next-day close
# -----------------
# The recommended pipeline against the naive (last value) and drift forecasts on the last 20%
# of the days. Predicting on all rows gives the first test windows their real history; each
# forecast reads rows up to its own day only.
setup()
parser = arguments(__doc__, max_epochs=50, saves=True)
parser.add_argument("--output-dir", type=Path, default=PLOTS, help="where plots go")
args = parser.parse_args()
figures: dict[str, Any] = {}

prices = load_sp500()[["Close", "Volume"]]
X, y = make_supervised(prices, target="Close", horizon=1)
split = int(len(X) * 0.8)
X_train, y_train = X.iloc[:split], y.iloc[:split]
truth, last = y.to_numpy()[split:], X["Close"].to_numpy()[split:]

model = price_model(args.max_epochs)
start = time.perf_counter()
model.fit(X_train, y_train)
fit_seconds = time.perf_counter() - start
forecasts = {"LSTM (recommended)": model.predict(X)[split:]}
for name, estimator in [
    ("naive (last value)", NaiveForecaster()),
    ("drift", DriftForecaster()),
]:
    forecasts[name] = baseline(estimator).fit(X_train, y_train).predict(X)[split:]
print(
    f"S&P 500 close, one day ahead. Train {X.index[0].date()} .. {X.index[split - 1].date()}"
    f" (max {y_train.max():.0f}), test {X.index[split].date()} .. {X.index[-1].date()} "
    f"({len(truth)} days, {truth.min():.0f} .. {truth.max():.0f})"
)
print(f"LSTM fit: {fit_seconds:.1f} s, {model.regressor_[-1].n_iter_} epochs\n")
figures["next_day"] = report(forecasts, truth, last, y_train.to_numpy())
predicted_return = np.log(forecasts["LSTM (recommended)"] / last)
correlation = np.corrcoef(forecasts["LSTM (recommended)"], truth)[0, 1]
print(
    f"\nThe LSTM's forecast returns: std {predicted_return.std():.1e} against "
    f"{np.log(truth / last).std():.1e} for the real ones; correlation of forecast and "
    f"actual prices {correlation:.4f}.\n"
    "'direction': share of moves called right (from today's close); MASE: MAE over the "
    "naive forecast's in-sample MAE."
)
figures["split"] = {
    "train": [str(X.index[0].date()), str(X.index[split - 1].date())],
    "test": [str(X.index[split].date()), str(X.index[-1].date())],
    "test_days": len(truth),
    "train_max": float(y_train.max()),
    "test_range": [float(truth.min()), float(truth.max())],
}
figures["forecast_returns"] = {
    "std": float(predicted_return.std()),
    "actual_std": float(np.log(truth / last).std()),
    "price_correlation": float(correlation),
}
figures["fit"] = {"seconds": fit_seconds, "epochs": int(model.regressor_[-1].n_iter_)}

# %%
# Prediction intervals
# --------------------
# The 10% and 90% quantiles of tomorrow's close from a quantile-loss LSTM, against the same
# quantiles of the training period's daily returns applied to today's close.
quantile = price_model(args.max_epochs, loss="quantile", quantiles=(0.1, 0.5, 0.9))
bands = quantile.fit(X_train, y_train).predict_quantiles(X)[split:]
low_q, high_q = np.quantile(np.log(y_train / X_train["Close"]), [0.1, 0.9])
print("80% prediction intervals (10%-90% quantiles), hold-out:")
figures["intervals"] = {}
for name, low, high in [
    ("LSTM, quantile loss", bands[:, 0], bands[:, 2]),
    ("training-return quantiles", last * np.exp(low_q), last * np.exp(high_q)),
]:
    coverage = np.mean((truth >= low) & (truth <= high))
    width = np.mean(high - low)
    print(f"  {name:<28} coverage {coverage:.3f}, mean width {width:.1f}")
    figures["intervals"][name] = {"coverage": float(coverage), "width": float(width)}

# %%
# 2. Direct multi-step
# --------------------
# One output per horizon, 1 to 5 days ahead.
horizons = list(range(1, 6))
X5, y5 = make_supervised(prices, target="Close", horizon=horizons)
split5 = int(len(X5) * 0.8)
multi = price_model(args.max_epochs).fit(X5.iloc[:split5], y5.iloc[:split5])
pred5 = multi.predict(X5)[split5:]
truth5, last5 = y5.to_numpy()[split5:], X5["Close"].to_numpy()[split5:, np.newaxis]
print("Direct multi-step forecast, RMSE by horizon (LSTM / naive):")
figures["multi_step"] = {}
for k, h in enumerate(horizons):
    lstm_rmse = root_mean_squared_error(truth5[:, k], pred5[:, k])
    naive_rmse = root_mean_squared_error(truth5[:, k], last5[:, 0])
    print(f"  t+{h}: {lstm_rmse:8.3f} / {naive_rmse:8.3f} = {lstm_rmse / naive_rmse:.4f}")
    figures["multi_step"][f"t+{h}"] = lstm_rmse / naive_rmse

# %%
# 3. Walk-forward backtest
# ------------------------
# Refit every 250 days on all the past, forecast the next 250.
cv = WalkForwardSplit(n_splits=4, test_size=250)
start = time.perf_counter()
lstm_bt = backtest(price_model(args.max_epochs), X, y, cv=cv)
naive_bt = backtest(baseline(NaiveForecaster()), X, y, cv=cv)
folds = pd.DataFrame(
    {
        "test_start": lstm_bt.metrics["test_start"].dt.date,
        "LSTM RMSE": lstm_bt.metrics["rmse"],
        "naive RMSE": naive_bt.metrics["rmse"],
    }
)
folds["ratio"] = folds["LSTM RMSE"] / folds["naive RMSE"]
print(f"Walk-forward backtest, 4 refits ({time.perf_counter() - start:.0f} s):")
print(folds.to_string(float_format="{:.4f}".format))
figures["backtest"] = [
    {"test_start": str(row.test_start), "ratio": float(row.ratio)} for row in folds.itertuples()
]

# %%
# 4. Direction
# ------------
# Will tomorrow close higher? Inputs: the same log changes, scaled; against the majority class.
up = np.where(y.to_numpy() > X["Close"].to_numpy(), "up", "down")
classifier = make_pipeline(
    ReturnsTransformer(kind={"Volume": "log1p"}),
    StandardScaler(),
    SlidingWindowTransformer(window=WINDOW),
    LSTMClassifier(
        units=32, max_epochs=args.max_epochs, patience=5, learning_rate=1e-3, random_state=0
    ),
).fit(X_train, up[:split])
accuracy = np.mean(classifier.predict(X)[split:] == up[split:])
majority = pd.Series(up[:split]).value_counts().idxmax()
majority_accuracy = np.mean(up[split:] == majority)
print(
    f"Direction classifier: accuracy {accuracy:.3f}; majority class ('{majority}' "
    f"every day) {majority_accuracy:.3f}."
)
figures["direction"] = {
    "accuracy": float(accuracy),
    "majority": str(majority),
    "majority_accuracy": float(majority_accuracy),
}

# %%
# 5. Risk
# -------
# Tomorrow's variance: an LSTM trained with QLIKE against GARCH(1, 1) and EWMA.
figures["risk"] = risk_forecast(args.max_epochs)
if args.save_results:
    save("stock_forecast", figures)

# %%
# Pictures
# --------
# The last 120 test days with the 80% interval and the naive forecast, the training history
# (loss per epoch) and the backtest's errors over time against the naive forecast's.
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no plot saved")
else:
    fig, (ax_price, ax_loss, ax_bt) = plt.subplots(3, 1, figsize=(10, 11))
    recent = slice(-120, None)
    plot_forecast(
        y.iloc[split:].iloc[recent].rename("S&P 500 close (t+1)"),
        forecasts["LSTM (recommended)"][recent],
        interval=(bands[recent, 0], bands[recent, 2]),
        baseline=last[recent],
        label="LSTM (recommended pipeline)",
        baseline_label="naive (last value)",
        ax=ax_price,
    )
    ax_price.set_title("S&P 500 close(t+1): last 120 test days, 80% interval")
    plot_history(model.regressor_, ax=ax_loss)
    plot_backtest(
        lstm_bt, baseline=naive_bt, label="LSTM", baseline_label="naive (last value)", ax=ax_bt
    )
    fig.tight_layout()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / "stock_forecast.png"
    fig.savefig(path, dpi=100)
    print(f"plot saved to {path}")
