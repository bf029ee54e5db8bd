"""
Prediction intervals that keep their coverage
=============================================

80% intervals for next-day returns that keep their coverage when volatility changes.

For each ECB euro rate (USD, CAD, AUD, SEK, NOK) and the S&P 500: daily log returns in
percent, 20-day windows, the next day's return as target; the first 80% of the days train, the
last 20% test. Three ways to an 80% interval, scored by coverage (share of test days inside)
and mean width:

- quantile LSTM: ``LSTMRegressor(loss="quantile")``, its 10% and 90% quantiles;
- adaptive conformal over that LSTM (``conformity="quantile"``): the band is widened or narrowed
  online, after each day whose return is known, so that the long-run miss rate is 20%;
- adaptive conformal over the zero-return forecast (``conformity="absolute"``): ``0 ± threshold``.

The conformal wrappers fit their model on the first 80% of the training days, calibrate on the
rest, and then track through the test period with the returns observed so far (never the
current day's). Defaults throughout (``alpha=0.2``, ``learning_rate=0.05``): nothing tuned on
the test period.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTMs train for at most 2 epochs, so the figures printed on
this page are not the documented ones, which come from the full run.

Run:  python examples/intervals.py [--max-epochs N] [--save-results]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _settings import arguments, save, setup
from numpy.lib.stride_tricks import sliding_window_view

from tsforecast import LSTMRegressor
from tsforecast.baselines import ZeroReturnForecaster
from tsforecast.compose import AdaptiveConformalRegressor
from tsforecast.datasets import load_fx, load_sp500

WINDOW = 20


def coverage_and_width(intervals: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    inside = (intervals[:, 0] <= truth) & (truth <= intervals[:, 1])
    return float(inside.mean()), float((intervals[:, 1] - intervals[:, 0]).mean())


# %%
# The three interval methods on each series; coverage and mean width on the test days.
setup()
args = arguments(__doc__, max_epochs=30, saves=True).parse_args()
prices = {**load_fx().to_dict("series"), "S&P 500": load_sp500()["Close"]}
quantile_lstm = LSTMRegressor(
    loss="quantile",
    units=16,
    max_epochs=args.max_epochs,
    patience=5,
    learning_rate=3e-3,
    batch_size=128,
    random_state=0,
)
methods = {
    "quantile LSTM": quantile_lstm,
    "conformal(LSTM)": AdaptiveConformalRegressor(quantile_lstm, conformity="quantile"),
    "conformal(zero)": AdaptiveConformalRegressor(ZeroReturnForecaster()),
}
print(f"{'series':<9}" + "".join(f"{name:>24}" for name in methods))
print(f"{'':<9}" + "".join(f"{'coverage':>15}{'width':>9}" for _ in methods))
rows = []
figures = {}
for name, series in prices.items():
    returns = 100 * np.diff(np.log(series.to_numpy()))
    X = sliding_window_view(returns[:-1], WINDOW)[:, :, np.newaxis].astype(np.float32)
    y = returns[WINDOW:]
    split = int(0.8 * len(y))
    cells, bands = {}, {}
    for method, model in methods.items():
        model.fit(X[:split], y[:split])
        if isinstance(model, AdaptiveConformalRegressor):
            intervals = model.predict_interval(X[split:], y[split:])
        else:
            intervals = model.predict_quantiles(X[split:])[:, [0, -1]]
        cells[method] = coverage_and_width(intervals, y[split:])
        bands[method] = intervals
    rows.append(pd.DataFrame(cells, index=["coverage", "width"]).T.assign(series=name))
    figures[name] = {
        method: {"coverage": coverage, "width": width}
        for method, (coverage, width) in cells.items()
    }
    print(
        f"{name:<9}"
        + "".join(f"{coverage:>15.3f}{width:>9.3f}" for coverage, width in cells.values())
    )
table = pd.concat(rows)
within = table["coverage"].between(0.78, 0.82)
print(
    "\nReturns in percent; nominal coverage 0.80, goal [0.78, 0.82]. Within the goal: "
    + ", ".join(f"{m} {int(within[table.index == m].sum())}/{len(prices)}" for m in methods)
)
if args.save_results:
    save("intervals", figures)

# %%
# The S&P 500's last 250 test days: the quantile LSTM's band against the same band tracked
# by adaptive conformal inference, around each day's return.
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no plot drawn")
else:
    fig, ax = plt.subplots(figsize=(10, 4))
    days = np.arange(len(y) - split)[-250:]
    ax.plot(days, y[split:][-250:], ".", color="black", markersize=3, label="return of the day")
    conformal, quantile = bands["conformal(LSTM)"][-250:], bands["quantile LSTM"][-250:]
    ax.fill_between(days, conformal[:, 0], conformal[:, 1], alpha=0.3, label="conformal(LSTM)")
    ax.plot(days, quantile[:, 0], ":", color="tab:red", label="quantile LSTM")
    ax.plot(days, quantile[:, 1], ":", color="tab:red")
    ax.set_xlabel("test day")
    ax.set_ylabel(f"{name} daily return (%)")
    ax.set_title(f"{name}: 80% intervals, last 250 test days")
    ax.legend(loc="lower left")
    fig.tight_layout()
