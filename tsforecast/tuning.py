"""Deprecated home of the Optuna search: use :mod:`tsforecast.model_selection`.

``python -m tsforecast.tuning JOB`` still runs a worker of a shared study.
"""

from __future__ import annotations

import warnings
from typing import Any

from .model_selection._worker import main

_MOVED = {"OptunaSearchCV", "LayerUnits", "default_search_space"}
_OPTUNA = {"CategoricalDistribution", "FloatDistribution", "IntDistribution"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"tsforecast.tuning.{name} moved to tsforecast.model_selection.{name}; the old "
            "import path will be removed in a future version.",
            FutureWarning,
            stacklevel=2,
        )
        from . import model_selection

        return getattr(model_selection, name)
    if name in _OPTUNA:
        import optuna.distributions

        return getattr(optuna.distributions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main(prog="python -m tsforecast.tuning")
