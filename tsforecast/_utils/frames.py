"""Checks of pandas input shared by the estimators and the transformers."""

from __future__ import annotations

from typing import Any

import pandas as pd


def check_numeric_columns(X: Any) -> None:
    """Refuse a DataFrame column of dates, durations or text, naming it.

    NumPy's conversion error names no column. Columns of numbers, booleans, categories and
    objects (which may hold numbers) are left to the conversion.
    """
    if not isinstance(X, pd.DataFrame):
        return
    for name, dtype in X.dtypes.items():
        if not (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            raise TypeError(
                f"X column {name!r} has dtype {dtype}; the features must be numbers. Drop "
                "the column or encode it as numbers (e.g. tsforecast.preprocessing."
                "calendar_features for dates)."
            )
