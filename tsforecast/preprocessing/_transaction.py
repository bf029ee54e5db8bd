"""A fit that raises leaves the transformer exactly as it was."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

_Fit = TypeVar("_Fit", bound=Callable[..., Any])


def unchanged_on_error(fit: _Fit) -> _Fit:
    """Restore the estimator's attributes when ``fit`` raises.

    ``validate_data(reset=True)`` sets ``n_features_in_`` and ``feature_names_in_`` before the
    later checks of a fit can fail; without the restore, a failed refit would leave those of
    the new data next to the history of the old.
    """

    @functools.wraps(fit)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        state = dict(vars(self))
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(state)
            raise

    return wrapper  # type: ignore[return-value]
