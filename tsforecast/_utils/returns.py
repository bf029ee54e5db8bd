"""Returns of ``kind`` between values and a reference, and back: shared by
:class:`~tsforecast.preprocessing.ReturnsTransformer` and
:class:`~tsforecast.compose.RelativeTargetRegressor`."""

from __future__ import annotations

import numpy as np

KINDS = {"log", "simple", "difference"}
RETURN_KINDS = KINDS | {"log1p"}


def relative(values: np.ndarray, reference: np.ndarray, kind: str) -> np.ndarray:
    """``values`` relative to ``reference``: a return of ``kind``."""
    if kind == "log":
        return np.log(values / reference)
    if kind == "log1p":
        return np.log1p(values) - np.log1p(reference)
    if kind == "simple":
        return values / reference - 1.0
    return values - reference


def absolute(relative: np.ndarray, reference: np.ndarray, kind: str) -> np.ndarray:
    """The inverse of :func:`relative` (not for ``log1p``)."""
    if kind == "log":
        return reference * np.exp(relative)
    if kind == "simple":
        return reference * (1.0 + relative)
    return reference + relative


def check_positive(values: np.ndarray, kind: str, what: str) -> None:
    """Raise a ValueError when ``values`` are outside what returns of ``kind`` take."""
    if kind == "log1p" and not (values >= 0).all():
        raise ValueError(
            f"{what} has values < 0: log1p changes need non-negative counts (volumes); use "
            "kind='difference' for series that can be negative."
        )
    if kind in ("log", "simple") and not (values > 0).all():
        raise ValueError(
            f"{what} has values <= 0: {kind} returns need positive prices; use "
            "kind='log1p' for counts that can be zero (volumes) or kind='difference' for "
            "series that can be zero or negative."
        )
