"""Model selection for forecasting: walk-forward splits, backtests and Optuna search.

Optuna is imported on first use of :class:`OptunaSearchCV`, :class:`LayerUnits` or
:func:`default_search_space`, so that the splitter and backtests do not load it.
"""

from typing import Any

from ._backtest import BacktestResult, WalkForwardSplit, backtest, infer_lookback
from ._panel import backtest_panel

_SEARCH_NAMES = {
    "OptunaSearchCV": "._search",
    "LayerUnits": "._space",
    "default_search_space": "._space",
}


def __getattr__(name: str) -> Any:
    if name in _SEARCH_NAMES:
        import importlib

        return getattr(importlib.import_module(_SEARCH_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BacktestResult",
    "LayerUnits",
    "OptunaSearchCV",
    "WalkForwardSplit",
    "backtest",
    "backtest_panel",
    "default_search_space",
    "infer_lookback",
]
