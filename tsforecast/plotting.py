"""Pictures of forecasts, training curves and backtests (needs matplotlib: extra ``plot``).

Each function draws on ``ax`` (a new figure's axes when ``None``) and returns the axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .model_selection import BacktestResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "tsforecast.plotting needs matplotlib: pip install 'tsforecast[plot]'."
        ) from exc
    return plt.subplots(figsize=(10, 4))[1]


def plot_forecast(
    y_true: pd.Series | None,
    y_pred: Any,
    *,
    interval: tuple[Any, Any] | None = None,
    baseline: Any = None,
    baseline_label: str = "baseline",
    label: str = "forecast",
    ax: Axes | None = None,
) -> Axes:
    """Forecast against the actual series, with an optional prediction interval.

    Draws a forecast of the future too: pass ``y_pred`` as a Series indexed by the dates it
    forecasts, and as ``y_true`` the recent history (or ``None``). The x axis is labelled with
    the index's name (``"time"`` without one), the y axis with the name of ``y_true`` (or of
    ``y_pred``).

    Parameters
    ----------
    y_true : Series or None
        Observed values; its index is the time axis. ``None`` draws no actual values.
    y_pred : Series or array-like of shape (n,)
        Forecasts. A Series is drawn on its own index (future dates, say); an array is
        aligned with ``y_true``, which it must then match in length.
    interval : (lower, upper), default=None
        Bounds of a prediction interval, e.g. two columns of ``predict_quantiles``, aligned
        with ``y_pred``.
    baseline : array-like of shape (n,), default=None
        A baseline forecast to draw next to the model (e.g. the naive one), aligned with
        ``y_pred``.
    baseline_label : str, default="baseline"
        The baseline's name in the legend, e.g. ``"naive (last value)"``.
    label : str, default="forecast"
        The forecast's name in the legend, e.g. ``"LSTM"``.
    ax : matplotlib Axes, default=None
        Where to draw.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on: lines labelled ``"actual"`` (when ``y_true`` is given),
        ``label`` and ``baseline_label``.
    """
    if isinstance(y_pred, pd.Series):
        x = y_pred.index
    elif y_true is None:
        raise ValueError(
            "plot_forecast needs the forecast's time axis: pass y_pred as a pandas Series "
            "indexed by the dates it forecasts, or y_true to align it with."
        )
    else:
        x = y_true.index
    forecast = np.asarray(y_pred, dtype=float).ravel()
    aligned = {"y_pred": forecast, "baseline": baseline}
    if interval is not None:
        aligned["interval's lower bound"], aligned["interval's upper bound"] = interval
    for name, values in aligned.items():
        if values is not None and np.shape(np.asarray(values).ravel()) != (len(x),):
            raise ValueError(
                f"plot_forecast got {name} of {np.asarray(values).size} values for a time "
                f"axis of {len(x)}; they must have the same length."
            )
    ax = _axes(ax)
    if y_true is not None:
        ax.plot(y_true.index, y_true.to_numpy(), color="black", label="actual")
    ax.plot(x, forecast, label=label)
    if baseline is not None:
        ax.plot(x, np.asarray(baseline, dtype=float).ravel(), linestyle=":", label=baseline_label)
    if interval is not None:
        lower, upper = (np.asarray(bound, dtype=float).ravel() for bound in interval)
        ax.fill_between(x, lower, upper, alpha=0.25, label="prediction interval")
    ax.set_xlabel(x.name or "time")
    named = next((s.name for s in (y_true, y_pred) if getattr(s, "name", None) is not None), None)
    if named is not None:
        ax.set_ylabel(str(named))
    ax.legend()
    return ax


def plot_history(estimator: Any, *, ax: Axes | None = None) -> Axes:
    """Training (and validation) loss per epoch from a fitted estimator's ``history_``.

    Parameters
    ----------
    estimator : LSTMRegressor, LSTMClassifier or Pipeline ending in one
        A fitted estimator.
    ax : matplotlib Axes, default=None
        Where to draw.

    Returns
    -------
    ax : matplotlib Axes
    """
    model = estimator[-1] if hasattr(estimator, "steps") else estimator
    history = pd.DataFrame(model.history_).set_index("epoch")
    ax = _axes(ax)
    history.plot(ax=ax, marker=".")
    ax.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole numbers
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("training history")
    return ax


def plot_backtest(
    result: BacktestResult,
    *,
    baseline: BacktestResult | None = None,
    rolling: int = 20,
    label: str = "model",
    baseline_label: str = "baseline",
    ax: Axes | None = None,
) -> Axes:
    """Absolute forecast errors over time from :func:`~tsforecast.model_selection.backtest`.

    Parameters
    ----------
    result : BacktestResult
        The model's backtest (single output).
    baseline : BacktestResult, default=None
        A baseline's backtest on the same folds, drawn dotted.
    rolling : int, default=20
        Average the absolute errors over this many steps.
    label : str, default="model"
        The model's name in the legend.
    baseline_label : str, default="baseline"
        The baseline's name in the legend, e.g. ``"naive (last value)"``.
    ax : matplotlib Axes, default=None
        Where to draw.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    for name, run, style in ((label, result, "-"), (baseline_label, baseline, ":")):
        if run is None:
            continue
        errors = (run.predictions["y_pred"] - run.predictions["y_true"]).abs()
        ax.plot(errors.rolling(rolling, min_periods=1).mean(), linestyle=style, label=name)
    for start in result.metrics["test_start"].iloc[1:]:
        ax.axvline(start, color="grey", linewidth=0.5)
    ax.set_title(f"backtest: {rolling}-step mean absolute error (lines: refits)")
    ax.set_xlabel(result.predictions.index.name or "time")
    ax.set_ylabel("absolute error")
    ax.legend()
    return ax
