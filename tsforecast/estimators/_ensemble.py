"""An ensemble of LSTM regressors of one configuration, trained together as one network."""

from __future__ import annotations

from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import check_is_fitted

from .._utils.sklearn_compat import Interval, StrOptions, _fit_context
from ._regressor import LSTMRegressor
from ._together import fit_together

_COMBINERS = {"median": np.median, "mean": np.mean}


class LSTMEnsembleRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Ensemble of ``n_members`` LSTM regressors that differ only in their random seed.

    Each member is a clone of ``estimator`` with its own ``random_state`` (its initial
    weights, dropout masks and minibatch order), fitted on the same ``X`` and ``y``; the
    forecasts are combined by their median or mean. Ensembles of networks are what much of
    the accuracy of ES-RNN and N-BEATS in the M4 competition came from, at ``n_members``
    times the arithmetic of one fit.

    The members train *together* where the configuration allows (see ``group_members``):
    as one block-diagonal network, ``n_members`` times as wide, in one training run. Each
    member's weights are then those it would have got trained alone, to float rounding.
    (Where a gradient is itself at rounding level, Adam's normalised step magnifies the
    rounding up to the learning rate: e.g. a ``linear_skip`` whose ridge start fits the
    target exactly, whose residuals are then rounding noise.)

    Parameters
    ----------
    estimator : LSTMRegressor, default=None
        The members' configuration (its ``random_state`` is replaced by each member's seed;
        each ``fit`` trains new members, so ``warm_start`` has no effect, and a
        ``checkpoint_path`` is refused).
        ``None`` means ``LSTMRegressor()``. To window a series first, put the ensemble last
        in a :class:`~sklearn.pipeline.Pipeline`.
    n_members : int, default=5
        Number of networks.
    combine : {"median", "mean"}, default="median"
        How the members' forecasts (and quantiles, for ``loss="quantile"``) are combined,
        per sample and output. The median is robust to a member that trained badly.
    group_members : bool or "auto", default="auto"
        Train the members as one network, in lockstep, when the configuration allows (as
        ``group_folds`` of :func:`~tsforecast.model_selection.backtest`: one device; no
        ``callbacks``, ``logger`` or fractional ``limit_train_batches`` in
        ``trainer_kwargs``; no ``warm_start`` or ``checkpoint_path``; not for token input,
        the peephole cell or ``window_scaling``). ``"auto"`` does so where it is faster: on a
        GPU, and on the CPU while ``n_members`` x ``units`` stay at most 128. ``True``
        whenever the configuration allows; ``False`` fits the members one by one. The
        fitted members are the same either way, to float rounding.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds: an int makes the whole ensemble reproducible.

    Attributes
    ----------
    estimators_ : list of LSTMRegressor
        The fitted members.
    seeds_ : ndarray of shape (n_members,)
        Each member's ``random_state``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` had string column names.
    quantiles_ : ndarray of shape (n_quantiles,)
        The members' quantile levels, with ``loss="quantile"``.

    See Also
    --------
    LSTMRegressor : One member.
    tsforecast.model_selection.backtest : Trains the folds of a backtest together the same way.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast import LSTMEnsembleRegressor, LSTMRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 8))
    >>> y = X[:, -1] + 0.5 * X[:, -2]
    >>> ensemble = LSTMEnsembleRegressor(
    ...     LSTMRegressor(units=8, max_epochs=5), n_members=3, random_state=0
    ... ).fit(X, y)
    >>> len(ensemble.estimators_), ensemble.predict(X[:4]).shape
    (3, (4,))
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimator": [LSTMRegressor, None],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "combine": [StrOptions(set(_COMBINERS))],
        "group_members": ["boolean", StrOptions({"auto"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: LSTMRegressor | None = None,
        *,
        n_members: int = 5,
        combine: str = "median",
        group_members: bool | str = "auto",
        random_state: Any = None,
    ) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.combine = combine
        self.group_members = group_members
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any) -> LSTMEnsembleRegressor:
        """Fit every member on ``X`` and ``y`` (together where possible).

        The ensemble changes only once every member is trained: an error, or Ctrl+C, leaves
        it as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : LSTMEnsembleRegressor
            The fitted ensemble.
        """
        template = LSTMRegressor() if self.estimator is None else self.estimator
        if template.checkpoint_path is not None:
            raise ValueError(
                "LSTMEnsembleRegressor does not take an estimator with a checkpoint_path: its "
                "members would share one checkpoint file. Set checkpoint_path=None."
            )
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=int(self.n_members))
        members = [clone(template).set_params(random_state=int(seed)) for seed in seeds]
        k = len(members)
        try:
            fit_together(members, [X] * k, [y] * k, together=self.group_members)
        except KeyboardInterrupt:
            # Ctrl+C: as a single LSTMRegressor, keep the whole epochs trained, if every
            # member has some (each says which it keeps); otherwise stay as it was.
            if all(member.__sklearn_is_fitted__() for member in members):
                self._set_fitted(members, seeds)
            raise
        self._set_fitted(members, seeds)
        return self

    def _set_fitted(self, members: list[LSTMRegressor], seeds: np.ndarray) -> None:
        fitted = {"estimators_": members, "seeds_": seeds}
        fitted["n_features_in_"] = members[0].n_features_in_
        for name in ("feature_names_in_", "quantiles_"):
            if hasattr(members[0], name):
                fitted[name] = getattr(members[0], name)
        for name in ("estimators_", "seeds_", "n_features_in_", "feature_names_in_", "quantiles_"):
            self.__dict__.pop(name, None)  # a refit on unnamed columns drops the old names
        self.__dict__.update(fitted)

    def _combined(self, forecasts: list[np.ndarray]) -> np.ndarray:
        return _COMBINERS[self.combine](np.stack(forecasts), axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """The members' forecasts of each sequence in ``X``, combined.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The median (or mean) of the members' forecasts.
        """
        check_is_fitted(self)
        return self._combined([member.predict(X) for member in self.estimators_])

    def predict_quantiles(self, X: Any) -> np.ndarray:
        """The members' quantile forecasts, combined level by level (``loss="quantile"``).

        Combining each level separately keeps the quantiles increasing: the median (or mean)
        of increasing sequences is increasing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_outputs, n_quantiles)
            Increasing along the last axis.
        """
        check_is_fitted(self)
        return self._combined([member.predict_quantiles(X) for member in self.estimators_])

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        inner = get_tags(LSTMRegressor() if self.estimator is None else self.estimator)
        tags.input_tags = inner.input_tags
        tags.target_tags.multi_output = True
        return tags
