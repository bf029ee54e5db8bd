"""OptunaSearchCV: search, pruning, failures, resume, bad spaces."""

import numpy as np
import optuna
import pytest
from conftest import FAST
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer
from tsforecast.tuning import LayerUnits, OptunaSearchCV, default_search_space


@pytest.fixture
def series(rng):
    t = np.arange(260)
    x = np.sin(t / 6) + 0.05 * rng.normal(size=len(t))
    return x[:-1, None], x[1:]


def _pipe():
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=8),
        LSTMRegressor(**{**FAST, "max_epochs": 4}, random_state=0),
    )


def test_default_space_covers_layers_units_dropout_lr_and_window():
    space = default_search_space(_pipe())
    assert set(space) == {
        "lstmregressor__num_layers",
        "lstmregressor__units",
        "lstmregressor__dropout",
        "lstmregressor__learning_rate",
        "slidingwindowtransformer__window",
    }
    with pytest.raises(ValueError, match="needs an LSTMRegressor"):
        default_search_space(StandardScaler())


def test_search_finds_parameters_and_refits(series):
    X, y = series
    space = {
        "lstmregressor__num_layers": IntDistribution(1, 2),
        "lstmregressor__units": LayerUnits(4, 16),
        "lstmregressor__learning_rate": CategoricalDistribution([0.01, 0.03]),
    }
    search = OptunaSearchCV(_pipe(), space, n_trials=4, cv=TimeSeriesSplit(2), random_state=0)
    search.fit(X, y)
    units = search.best_params_["lstmregressor__units"]
    assert (
        isinstance(units, tuple) and len(units) == search.best_params_["lstmregressor__num_layers"]
    )
    assert search.best_estimator_[-1].units == units
    assert search.predict(X).shape == (len(X),)
    assert len(search.study_.trials) == 4
    assert search.best_score_ == max(
        t.value for t in search.study_.trials if t.state == TrialState.COMPLETE
    )


def test_pruning_stops_hopeless_trials(series):
    X, y = series
    # A learning rate of 1e-7 cannot bring the validation loss under 0.8 within the warm-up;
    # 3e-2 does. The threshold pruner must stop exactly the first kind.
    space = {"lstmregressor__learning_rate": CategoricalDistribution([3e-2, 1e-7])}
    pipe = _pipe().set_params(lstmregressor__validation_fraction=0.2, lstmregressor__max_epochs=8)
    search = OptunaSearchCV(
        pipe,
        space,
        n_trials=6,
        cv=TimeSeriesSplit(2),
        pruner=optuna.pruners.ThresholdPruner(upper=0.8, n_warmup_steps=5),
        random_state=1,
    ).fit(X, y)
    by_state = {
        state: {
            t.params["lstmregressor__learning_rate"]
            for t in search.study_.trials
            if t.state == state
        }
        for state in (TrialState.PRUNED, TrialState.COMPLETE)
    }
    assert by_state[TrialState.PRUNED] == {1e-7}
    assert by_state[TrialState.COMPLETE] == {3e-2}


def test_failed_trials_are_recorded_and_the_search_goes_on(series):
    X, y = series
    space = {"lstmregressor__learning_rate": CategoricalDistribution([1e-2, 1e30])}
    pipe = _pipe().set_params(lstmregressor__optimizer="sgd")
    search = OptunaSearchCV(pipe, space, n_trials=5, cv=TimeSeriesSplit(2), random_state=0)
    search.fit(X, y)
    failed = [t for t in search.study_.trials if t.state == TrialState.FAIL]
    assert failed and all("diverged" in t.user_attrs["fail_reason"] for t in failed)
    assert search.best_params_["lstmregressor__learning_rate"] == 1e-2


def test_a_stored_study_resumes_without_losing_trials(series, tmp_path):
    X, y = series
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))
    space = {"lstmregressor__units": IntDistribution(4, 12)}
    kwargs = {"cv": TimeSeriesSplit(2), "storage": storage, "study_name": "s", "refit": False}
    first = OptunaSearchCV(_pipe(), space, n_trials=2, random_state=0, **kwargs).fit(X, y)
    before = [(t.number, t.params, t.value) for t in first.study_.trials]
    second = OptunaSearchCV(_pipe(), space, n_trials=4, random_state=1, **kwargs).fit(X, y)
    after = [(t.number, t.params, t.value) for t in second.study_.trials]
    assert after[:2] == before and len(after) == 4
    assert not hasattr(second, "best_estimator_")


def test_bad_spaces_are_refused(series):
    X, y = series
    with pytest.raises(ValueError, match=r"'lstmregressor__nope'.*not a parameter"):
        OptunaSearchCV(_pipe(), {"lstmregressor__nope": IntDistribution(1, 2)}).fit(X, y)
    with pytest.raises(TypeError, match="must be an optuna distribution"):
        OptunaSearchCV(_pipe(), {"lstmregressor__units": [8, 16]}).fit(X, y)


def test_grid_search_still_works_on_the_same_pipeline(series):
    X, y = series
    grid = GridSearchCV(_pipe(), {"lstmregressor__units": [4, 8]}, cv=TimeSeriesSplit(2))
    assert grid.fit(X, y).best_params_["lstmregressor__units"] in (4, 8)
