"""
One global model over a panel of currencies
===========================================

One global LSTM over five currencies against one LSTM per currency and the naive forecast.

The shipped ECB reference rates (USD, CAD, AUD, SEK, NOK per euro) become a long-format panel
of daily log returns in percent, with a ``currency`` column. ``make_supervised(...,
group="currency")`` pairs each day with the next day's return of the same currency, and a
``PanelWindowTransformer`` builds 20-day windows that never cross two currencies: one
``LSTMRegressor`` learns from all five series at once. Chronological split: the first 80% of
the dates train, the rest test. The naive forecast of a return is zero (tomorrow's rate =
today's).

Daily FX returns are close to unpredictable: expect every model to tie the naive forecast.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTMs train for at most 2 epochs, so the figures printed on
this page are not those of the full run.

Run:  python examples/fx_panel.py [--max-epochs N] [--save-results]
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _settings import arguments, save, setup
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.datasets import load_fx
from tsforecast.preprocessing import PanelWindowTransformer

WINDOW = 20


def lstm(max_epochs: int) -> LSTMRegressor:
    return LSTMRegressor(
        units=32, max_epochs=max_epochs, patience=5, learning_rate=1e-3, random_state=0
    )


def main() -> None:
    setup()
    parser = arguments(__doc__, max_epochs=30, saves=True)
    args = parser.parse_args()

    rates = load_fx()
    returns = 100 * np.log(rates).diff().dropna()
    # Long format, date-major: the most recent rows (the validation tail) hold every currency.
    panel = (
        returns.reset_index()
        .melt(id_vars="Date", var_name="currency", value_name="ret")
        .sort_values("Date", kind="stable")
        .set_index("Date")
    )
    X, y = make_supervised(panel, target="ret", group="currency")
    cutoff = X.index.unique()[int(0.8 * X.index.nunique())]
    train = X.index < cutoff
    print(
        f"{len(rates.columns)} currencies, train {X.index[0].date()} .. "
        f"{X.index[train][-1].date()}, test {cutoff.date()} .. {X.index[-1].date()} "
        f"({(~train).sum() // len(rates.columns)} days each)"
    )

    start = time.perf_counter()
    global_model = make_pipeline(
        PanelWindowTransformer(group="currency", window=WINDOW), lstm(args.max_epochs)
    ).fit(X[train], y[train])
    global_pred = global_model.predict(X)
    print(f"global model: {time.perf_counter() - start:.0f} s, one fit on all currencies")

    start = time.perf_counter()
    local_pred = pd.Series(np.nan, index=range(len(X)))
    for currency in rates.columns:
        rows = (X["currency"] == currency).to_numpy()
        features = X.loc[rows, ["ret"]]
        model = make_pipeline(SlidingWindowTransformer(window=WINDOW), lstm(args.max_epochs))
        model.fit(features[train[rows]], y[rows][train[rows]])
        local_pred[np.flatnonzero(rows)] = model.predict(features)
    print(f"per-currency models: {time.perf_counter() - start:.0f} s, five fits\n")

    print(f"{'currency':<10}{'naive RMSE':>12}{'global / naive':>16}{'per-currency / naive':>22}")
    ratios = []
    figures = {}
    for currency in [*rates.columns, "all"]:
        rows = ~train & ((X["currency"] == currency).to_numpy() if currency != "all" else True)
        truth = y[rows].to_numpy()
        naive = root_mean_squared_error(truth, np.zeros_like(truth))
        glob = root_mean_squared_error(truth, global_pred[rows]) / naive
        local = root_mean_squared_error(truth, local_pred[rows].to_numpy()) / naive
        ratios.append((glob, local))
        figures[currency] = {"naive_rmse": naive, "global": glob, "per_currency": local}
        print(f"{currency:<10}{naive:>12.4f}{glob:>16.4f}{local:>22.4f}")
    print(
        "\nReturns in percent; ratios below 1 beat the naive forecast (zero return). "
        f"Global model {ratios[-1][0]:.4f}, per-currency {ratios[-1][1]:.4f} of naive overall."
    )
    if args.save_results:
        save("fx_panel", figures)


# %%
# Run it: fit, score and print.
if __name__ == "__main__":
    main()
