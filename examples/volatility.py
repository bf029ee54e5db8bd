"""
Volatility: an LSTM trained with QLIKE against GARCH(1, 1)
==========================================================

Next-day variance of the S&P 500 and EUR/USD. The target is tomorrow's squared log return
(percent², an unchanged quote floored at the rounding variance of its tick), forecast from
windows of daily returns and, for the S&P 500, the Garman-Klass range estimate of each day's
variance. Chronological split: the first 80% of the days train, the last 20% test. Every
model forecasts the same test days:

- EWMA: RiskMetrics, decay 0.94.
- GARCH(1, 1): the ``arch`` package, fitted on the training returns.
- HAR: regression on the daily, weekly and monthly means of the variance proxy.
- LSTM: ``LSTMRegressor(loss="qlike")`` reading the last 60 days. Three designs, chosen on
  an inner split of the training period (its first 80% fit, its last 20% judge): forecast
  the variance directly, or as a multiple of the EWMA or of the GARCH forecast (the target
  is ``y / anchor`` and the forecast ``anchor * lstm``; QLIKE is scale-free, so this starts
  the network at the classical forecast and lets it learn what that misses, as HARNet does
  from HAR).

Scores: QLIKE (lower is better) with its ratio to the better of GARCH and EWMA, and the
Diebold-Mariano test (QLIKE losses) of the LSTM against each baseline: a negative
statistic favours the LSTM, the p-value says whether the difference is more than noise.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTMs train for at most 2 epochs, so the figures printed on
this page are not the documented ones, which come from the full run.

Run:  python examples/volatility.py [--max-epochs N] [--save-results]
"""

from __future__ import annotations

import numpy as np
from _settings import arguments, save, setup
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import clone

from tsforecast import LSTMRegressor
from tsforecast.datasets import load_eurusd, load_sp500
from tsforecast.metrics import diebold_mariano, qlike
from tsforecast.preprocessing import garman_klass_variance, squared_returns
from tsforecast.volatility import EWMAVarianceForecaster, GARCHForecaster, HARForecaster

HISTORY = 250  # days of history the classical models read
WINDOW = 60  # days the LSTM reads


def variance_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``(n, HISTORY, 2)`` of [return, variance proxy] and next-day variances."""
    if name == "S&P 500":
        prices = load_sp500()
        close, tick = prices["Close"], 0.01
        proxy = 1e4 * garman_klass_variance(prices).iloc[1:]
    else:
        close, tick = load_eurusd()["USD"], 0.0001
    variance = 1e4 * squared_returns(close, tick=tick)
    proxy = proxy if name == "S&P 500" else variance
    features = np.column_stack([100 * np.diff(np.log(close.to_numpy())), proxy])
    X = sliding_window_view(features[:-1], HISTORY, axis=0).transpose(0, 2, 1)
    return X, variance.to_numpy()[HISTORY:]


def lstm_features(X: np.ndarray, reference: float) -> np.ndarray:
    """The last WINDOW days: scaled returns and log variance proxy."""
    recent = X[:, -WINDOW:]
    returns = recent[:, :, 0] / np.sqrt(reference)
    return np.stack([returns, np.log(recent[:, :, 1] / reference)], axis=2).astype(np.float32)


def lstm_forecast(
    X: np.ndarray, y: np.ndarray, split: int, max_epochs: int
) -> tuple[np.ndarray, str, dict[str, float]]:
    """Choose the design on the inner split, refit it on the whole training period."""
    reference = float(np.mean(y[:split]))
    anchors = {"direct": None, "x EWMA": EWMAVarianceForecaster(), "x GARCH": GARCHForecaster()}

    def forecast(fit: slice, test: slice, design: str) -> np.ndarray:
        anchor = anchors[design]
        if anchor is None:
            fit_anchor, test_anchor = 1.0, 1.0
        else:
            anchor = clone(anchor).fit(X[fit], y[fit])
            fit_anchor, test_anchor = anchor.predict(X[fit]), anchor.predict(X[test])
        model = LSTMRegressor(
            loss="qlike",
            units=16,
            max_epochs=max_epochs,
            patience=5,
            learning_rate=3e-3,
            batch_size=128,
            random_state=0,
        ).fit(lstm_features(X[fit], reference), y[fit] / fit_anchor)
        return model.predict(lstm_features(X[test], reference)) * test_anchor

    inner = int(0.8 * split)
    scores = {
        design: qlike(y[inner:split], forecast(slice(0, inner), slice(inner, split), design))
        for design in anchors
    }
    design = min(scores, key=scores.__getitem__)
    return forecast(slice(0, split), slice(split, None), design), design, scores


# %%
# The three classical forecasts and the LSTM on each series' test days; the table prints one
# row per model, the next line the LSTM's design chosen on the inner split.
setup()
args = arguments(__doc__, max_epochs=30, saves=True).parse_args()
print(f"{'series':<10}{'model':<8}{'QLIKE':>8}{'/ best':>8}{'DM vs GARCH':>18}{'DM vs EWMA':>18}")
figures, drawn = {}, {}
for name in ("S&P 500", "EUR/USD"):
    X, y = variance_data(name)
    split = int(0.8 * len(y))
    truth = y[split:]
    forecasts = {
        "EWMA": EWMAVarianceForecaster(feature=0),
        "GARCH": GARCHForecaster(feature=0),
        "HAR": HARForecaster(feature=1),
    }
    forecasts = {k: m.fit(X[:split], y[:split]).predict(X[split:]) for k, m in forecasts.items()}
    forecasts["LSTM"], design, inner = lstm_forecast(X, y, split, args.max_epochs)
    losses = {k: qlike(truth, f, per_sample=True) for k, f in forecasts.items()}
    best = min(losses["GARCH"].mean(), losses["EWMA"].mean())
    rows = {}
    for model, loss in losses.items():
        tests = {
            other: diebold_mariano(loss, losses[other], loss="precomputed")
            for other in ("GARCH", "EWMA")
            if other != model
        }
        cells = [
            f"{tests[other].statistic:+7.2f} p={tests[other].pvalue:.3f}" if other in tests else ""
            for other in ("GARCH", "EWMA")
        ]
        print(
            f"{name:<10}{model:<8}{loss.mean():>8.4f}{loss.mean() / best:>8.3f}"
            f"{cells[0]:>18}{cells[1]:>18}"
        )
        rows[model] = {
            "qlike": float(loss.mean()),
            "vs_best": float(loss.mean() / best),
            **{
                f"dm_vs_{other}": {"statistic": float(test.statistic), "pvalue": float(test.pvalue)}
                for other, test in tests.items()
            },
        }
    print(
        f"{'':<10}LSTM design chosen on the inner split: {design} "
        f"(inner QLIKE {', '.join(f'{k} {v:.4f}' for k, v in inner.items())}); "
        f"test days {len(truth)}\n"
    )
    figures[name] = {"test_days": len(truth), "design": design, "inner": inner, "models": rows}
    drawn[name] = (truth, forecasts)
print(
    "QLIKE of next-day variance forecasts on the last 20% of days; '/ best' is the ratio "
    "to the better of GARCH(1, 1) and EWMA (goal <= 1, stretch 0.97). DM: Diebold-Mariano "
    "on QLIKE losses, HLN-corrected; negative favours the row's model."
)
if args.save_results:
    save("volatility", figures)

# %%
# The forecasts of the last 250 test days as daily volatility (the square root of the
# variance forecast, in percent) against the absolute return of each day.
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no plot drawn")
else:
    fig, axes = plt.subplots(2, 1, figsize=(10, 7))
    for ax, (name, (truth, forecasts)) in zip(axes, drawn.items(), strict=True):
        days = np.arange(len(truth))[-250:]
        ax.plot(days, np.sqrt(truth[-250:]), ".", color="grey", label="|return| of the day")
        for model, style in (("GARCH", ":"), ("EWMA", "--"), ("LSTM", "-")):
            ax.plot(days, np.sqrt(forecasts[model][-250:]), style, label=f"{model} forecast")
        ax.set_xlabel("test day")
        ax.set_ylabel("daily volatility (%)")
        ax.set_title(f"{name}: next-day volatility, last 250 test days")
        ax.legend(loc="upper left")
    fig.tight_layout()
