"""
Price levels beyond the training range
======================================

Price levels beyond the training range: the recommended pipeline on both shipped series.

For the S&P 500 close and the EUR/USD rate, a chronological 80/20 split; one-day-ahead level
forecasts of the recommended pipeline (returns in, relative target out) against the naive
"tomorrow = today", and, for contrast, the same LSTM fed standardized levels.
Target: RMSE at most 1.02 x naive, forecasts that track the series.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTMs train for at most 2 epochs, so the figures printed on
this page are not those of the full run.

Run:  python examples/price_levels.py [--max-epochs N] [--save-results]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _settings import arguments, save, setup
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.compose import RelativeTargetRegressor
from tsforecast.datasets import load_eurusd, load_sp500
from tsforecast.preprocessing import ReturnsTransformer

TARGET_RATIO = 1.02


def lstm(max_epochs: int) -> LSTMRegressor:
    return LSTMRegressor(
        units=32,
        num_layers=2,
        dropout=0.1,
        max_epochs=max_epochs,
        patience=5,
        learning_rate=1e-3,
        random_state=0,
    )


def evaluate(name: str, data: pd.DataFrame, target: str, max_epochs: int) -> dict:
    """Print the comparison on one series and return its figures."""
    X, y = make_supervised(data, target=target)
    split = int(len(X) * 0.8)
    recommended = RelativeTargetRegressor(
        make_pipeline(
            ReturnsTransformer(),
            StandardScaler(),
            SlidingWindowTransformer(window=30),
            lstm(max_epochs),
        ),
        reference=target,
    )
    levels = make_pipeline(StandardScaler(), SlidingWindowTransformer(window=30), lstm(max_epochs))
    truth, last = y.to_numpy()[split:], X[target].to_numpy()[split:]
    naive = root_mean_squared_error(truth, last)
    print(
        f"\n{name}: train max {y.iloc[:split].max():.4g}, test range "
        f"{truth.min():.4g} .. {truth.max():.4g} ({len(truth)} days)"
    )
    print(f"{'forecast':<30}{'RMSE':>10}{'vs naive':>10}{'corr':>8}")
    print(f"{'naive (last value)':<30}{naive:>10.4g}{1.0:>10.4f}{'':>8}")
    figures = {
        "train_max": float(y.iloc[:split].max()),
        "test_range": [float(truth.min()), float(truth.max())],
        "test_days": len(truth),
        "naive_rmse": naive,
    }
    for label, model in [("recommended pipeline", recommended), ("standardized levels", levels)]:
        pred = model.fit(X.iloc[:split], y.iloc[:split]).predict(X)[split:]
        rmse = root_mean_squared_error(truth, pred)
        corr = np.corrcoef(pred, truth)[0, 1]
        print(f"{label:<30}{rmse:>10.4g}{rmse / naive:>10.4f}{corr:>8.4f}")
        figures[label] = {"rmse": rmse, "vs_naive": rmse / naive, "correlation": corr}
        if label == "recommended pipeline":
            status = "met" if rmse <= TARGET_RATIO * naive else "MISSED"
            print(f"  target RMSE <= {TARGET_RATIO} x naive: {status}")
    return figures


def main() -> None:
    setup()
    parser = arguments(__doc__, max_epochs=50, saves=True)
    args = parser.parse_args()
    figures = {
        "S&P 500 close": evaluate(
            "S&P 500 close", load_sp500()[["Close", "Volume"]], "Close", args.max_epochs
        ),
        "EUR/USD": evaluate("EUR/USD", load_eurusd(), "USD", args.max_epochs),
    }
    if args.save_results:
        save("price_levels", figures)


# %%
# Run it: fit, score and print.
if __name__ == "__main__":
    main()
