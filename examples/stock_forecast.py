"""Forecast the S&P 500 one trading day ahead and compare with the naive forecast.

The model never sees a price level. It reads the last 30 daily log returns (and log volume
changes) and predicts tomorrow's log return; the price forecast is today's close times
``exp(predicted return)``. The naive baseline ("tomorrow = today") is the same formula with a
zero return. Evaluation is on a chronological hold-out: the last 20% of the days.

Daily index returns are close to unpredictable, so expect the model to tie the naive forecast
on price RMSE. A result far better than naive would be a leak until proven otherwise.

Run:  python examples/stock_forecast.py [--output-dir DIR] [--max-epochs N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.datasets import load_sp500


def rmse(error: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(error))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path("."), help="where plots go")
    parser.add_argument("--max-epochs", type=int, default=50)
    args = parser.parse_args()

    prices = load_sp500()
    features = pd.DataFrame(
        {
            "log_return": np.log(prices["Close"]).diff(),
            "log_volume_change": np.log(prices["Volume"]).diff(),
        }
    ).dropna()
    X, y = make_supervised(features, target="log_return", horizon=1)
    split = int(len(X) * 0.8)
    X_train, X_test = X.iloc[:split], X.iloc[split:]
    y_train, y_test = y.iloc[:split], y.iloc[split:]

    model = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=30),
        LSTMRegressor(
            units=32,
            num_layers=2,
            dropout=0.1,
            max_epochs=args.max_epochs,
            patience=5,
            random_state=0,
        ),
    )
    # pandas output keeps the index, so the test windows start from the real training history.
    model.set_output(transform="pandas")
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    predicted_return = model.predict(X_test)

    close_today = prices["Close"].loc[X_test.index].to_numpy()
    close_tomorrow = close_today * np.exp(y_test.to_numpy())
    forecasts = {
        "LSTM": close_today * np.exp(predicted_return),
        "naive (last value)": close_today,
    }
    actual_up = y_test.to_numpy() > 0
    print(
        f"S&P 500, train {X_train.index[0].date()} .. {X_train.index[-1].date()}, "
        f"test {X_test.index[0].date()} .. {X_test.index[-1].date()} ({len(X_test)} days)"
    )
    print(f"fit: {fit_seconds:.1f} s, {model[-1].n_iter_} epochs\n")
    header = ("forecast", "price RMSE", "price MAE", "vs naive", "direction")
    print("{:<20} {:>10} {:>10} {:>9} {:>10}".format(*header))
    naive_rmse = rmse(close_tomorrow - close_today)
    for name, forecast in forecasts.items():
        error = close_tomorrow - forecast
        up = forecast > close_today if name == "LSTM" else np.ones_like(actual_up)
        print(
            f"{name:<20} {rmse(error):>10.3f} {np.mean(np.abs(error)):>10.3f} "
            f"{rmse(error) / naive_rmse:>9.4f} {np.mean(up == actual_up):>10.3f}"
        )
    print("\n'direction' is the share of days whose up/down move was called right; the naive row")
    print("is the always-up baseline. 'vs naive' is price RMSE relative to the naive forecast.")
    print(
        f"prediction spread: std of predicted returns {predicted_return.std():.2e} "
        f"vs actual {y_test.std():.2e}"
    )

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot saved")
        return
    fig, (ax_price, ax_loss) = plt.subplots(2, 1, figsize=(10, 7))
    last = slice(-120, None)
    dates = X_test.index[last] + pd.offsets.BDay(1)
    ax_price.plot(dates, close_tomorrow[last], label="actual close", color="black")
    ax_price.plot(dates, forecasts["LSTM"][last], label="LSTM forecast")
    ax_price.plot(dates, close_today[last], label="naive (last value)", linestyle=":")
    ax_price.set_title("S&P 500, one day ahead: last 120 test days")
    ax_price.legend()
    history = pd.DataFrame(model[-1].history_).set_index("epoch")
    history.plot(ax=ax_loss, title="training and validation loss (standardized returns)")
    fig.tight_layout()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / "stock_forecast.png"
    fig.savefig(path, dpi=100)
    print(f"plot saved to {path}")


if __name__ == "__main__":
    main()
