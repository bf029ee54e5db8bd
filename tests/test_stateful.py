"""Random sequences of calls on the LSTM estimators, and what must hold between any two of them.

A hypothesis state machine drives ``fit``, ``partial_fit``, fits that must fail (bad ``y``, too
few samples, a diverging learning rate), ``set_params``, ``predict``, pickling and
``save_model``/``load_model`` on tiny networks, and checks after every step:

- a call that raised changed nothing: predictions, ``classes_``, the target scaling,
  ``n_iter_``, ``history_``, the weights and the parameters are as before the call;
- a fit or partial_fit at a diverging learning rate raises (changing nothing) or warns;
- ``len(history_) == n_iter_``, and predictions are finite;
- ``set_params`` does not change what a fitted model predicts;
- an unpickled or loaded model predicts exactly as the original, and trains on from there;
- a Trainer option the engine honours trains whole epochs; a refused one raises, naming it,
  and changes nothing;
- a Pipeline (or a nested one) holding the model round-trips through ``save_model`` and the
  MLflow flavour and predicts exactly as before;
- a good ``partial_fit`` after any sequence still changes the weights.

The failing sequence hypothesis prints (``state.fit()``, ``state.bad_fit(...)``, ...) replays
the defect step by step.
"""

import copy
import pickle
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sklearn.pipeline import Pipeline

from tsforecast import LSTMClassifier, LSTMRegressor, load_model, save_model

try:
    import tsforecast.mlflow as _MLFLOW
except ImportError:  # the mlflow extra is not installed: the file round trip only
    _MLFLOW = None

# Trainer options the machine tries: honoured ones (whole epochs) and refused ones.
_TRAINER_OPTIONS = {
    "limit_train_batches": 2,
    "deterministic": True,
    "enable_model_summary": False,
    "max_steps": 3,
    "check_val_every_n_epoch": 2,
    "accumulate_grad_batches": 2,
}
# The ones the engine refuses (docs/guide/how-it-works.md, "Trainer options").
_REFUSED_TRAINER_OPTIONS = {"max_steps", "check_val_every_n_epoch", "accumulate_grad_batches"}

_RNG = np.random.default_rng(0)
_X = _RNG.normal(size=(24, 4, 1)).astype(np.float32)
_PROBE = _RNG.normal(size=(5, 4, 1)).astype(np.float32)
# A price-like level, so that a wrong target scaling shows in the predictions.
_Y_REG = 100.0 + 10.0 * _X[:, -1, 0]
_Y_CLF = np.where(_X[:, -1, 0] > 0, "up", "down")
_REFUSED = (ValueError, TypeError)


def _fitted(model: Any) -> bool:
    return hasattr(model, "module_")


def _weights(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.module_.state_dict().items()}


def _snapshot(model: Any) -> dict[str, Any]:
    """Everything a failed call must leave as it was."""
    state: dict[str, Any] = {"params": repr(model.get_params())}
    if not _fitted(model):
        return state
    state["predictions"] = model.predict(_PROBE)
    if hasattr(model, "predict_proba"):
        state["proba"] = model.predict_proba(_PROBE)
    for name in ("classes_", "target_mean_", "target_scale_", "n_iter_"):
        state[name] = copy.deepcopy(getattr(model, name, None))
    state["history_"] = repr(model.history_)  # repr: NaN records compare equal
    state["weights"] = _weights(model)
    return state


def _assert_same(before: dict[str, Any], after: dict[str, Any], what: str) -> None:
    assert before.keys() == after.keys(), f"{what}: fitted state appeared or vanished"
    for key, value in before.items():
        if key == "weights":
            changed = [k for k in value if not torch.equal(value[k], after[key][k])]
            assert not changed, f"{what}: weights {changed} changed"
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=f"{what}: {key} changed")
        else:
            assert after[key] == value, f"{what}: {key} changed from {value!r} to {after[key]!r}"


class _EstimatorMachine(RuleBasedStateMachine):
    """The rules shared by both estimators; subclasses give the estimator and its targets."""

    estimator: ClassVar[type]
    y: ClassVar[np.ndarray]
    # Targets ``fit`` must refuse, each of the full length unless the name says otherwise.
    bad_targets: ClassVar[dict[str, np.ndarray]]
    # One sample with a target unlike ``y`` (a single class for the classifier): a fit may
    # refuse it, but must then change nothing.
    lone_target: ClassVar[np.ndarray]

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.model = self.estimator(
            units=3, max_epochs=2, batch_size=8, learning_rate=0.02, random_state=0
        )

    def teardown(self) -> None:
        self.folder.cleanup()

    # ------------------------------------------------------------------ helpers
    def _succeeds(self, call: Any, *args: Any, **kwargs: Any) -> list[warnings.WarningMessage]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(*args, **kwargs)
        return caught

    def _refused_or_done(self, call: Any, *args: Any, must_fail: bool, **kwargs: Any) -> None:
        """Run a call that may be refused; if it raised, check that it changed nothing."""
        before = _snapshot(self.model)
        try:
            self._succeeds(call, *args, **kwargs)
        except _REFUSED:
            _assert_same(before, _snapshot(self.model), f"{call.__name__} that raised")
            return
        assert not must_fail, f"{call.__name__} accepted invalid input"

    def _diverges_loudly(self, call: Any, y: np.ndarray, **params: Any) -> None:
        """A diverging call must end in an error that changes nothing, or in a warning."""
        before = _snapshot(self.model)
        restore = {name: getattr(self.model, name) for name in params}
        self.model.set_params(**params)
        try:
            caught = self._succeeds(call, _X, y)
        except _REFUSED:
            self.model.set_params(**restore)
            _assert_same(before, _snapshot(self.model), f"diverging {call.__name__} that raised")
            return
        self.model.set_params(**restore)
        assert caught, f"{call.__name__} diverged silently ({params or 'huge y'})"

    # ------------------------------------------------------------------ rules
    @initialize(warm_start=st.booleans())
    def start(self, warm_start: bool) -> None:
        self.model.set_params(warm_start=warm_start)

    def _continues(self, call: Any, *args: Any, **kwargs: Any) -> bool:
        """Run a call that continues the fitted network (partial_fit, a warm start); return
        whether it trained. It may be refused on purpose, changing nothing: the network's
        shape was changed by set_params, or the targets lie far outside those of the fit
        it continues (e.g. a one-sample fit)."""
        snapshot = _snapshot(self.model)
        try:
            self._succeeds(call, *args, **kwargs)
        except ValueError as exc:
            assert re.search("continue the fitted network|outside the fitted range", str(exc))
            _assert_same(snapshot, _snapshot(self.model), f"{call.__name__} that raised")
            return False
        return True

    @rule()
    def fit(self) -> None:
        if self.model.warm_start and _fitted(self.model):
            self._continues(self.model.fit, _X, self.y)
        else:
            self._succeeds(self.model.fit, _X, self.y)

    @rule(epochs=st.integers(1, 2))
    def partial_fit(self, epochs: int) -> None:
        before = _weights(self.model) if _fitted(self.model) else None
        if not self._continues(self.model.partial_fit, _X, self.y, epochs=epochs):
            return
        if before is not None:
            after = self.model.module_.state_dict()
            assert any(not torch.equal(before[k], after[k]) for k in before), (
                "a good partial_fit changed no weight"
            )

    @rule(case=st.sampled_from(["nan", "short", "invalid", "empty"]))
    def bad_fit(self, case: str) -> None:
        X, y = _X, self.bad_targets[case]
        if case == "short":
            y = y[:-1]
        elif case == "empty":
            X, y = _X[:0], y[:0]
        self._refused_or_done(self.model.fit, X, y, must_fail=True)

    @rule()
    def fit_one_sample(self) -> None:
        self._refused_or_done(self.model.fit, _X[:1], self.lone_target, must_fail=False)

    @rule(incremental=st.booleans())
    def diverging_fit(self, incremental: bool) -> None:
        call = self.model.partial_fit if incremental else self.model.fit
        self._diverges_loudly(call, self.y, learning_rate=1e12)

    @rule(
        units=st.integers(2, 4),
        max_epochs=st.integers(1, 3),
        batch_size=st.sampled_from([8, 16]),
        validation_fraction=st.sampled_from([0.0, 0.25]),
        warm_start=st.booleans(),
    )
    def set_params(self, **params: Any) -> None:
        before = _snapshot(self.model)
        self.model.set_params(**params)
        after = _snapshot(self.model)
        del before["params"], after["params"]
        _assert_same(before, after, "set_params")

    @precondition(lambda self: _fitted(self.model))
    @rule()
    def predict(self) -> None:
        first = self.model.predict(_PROBE)
        np.testing.assert_array_equal(self.model.predict(_PROBE), first)

    @rule()
    def pickle_round_trip(self) -> None:
        copied = pickle.loads(pickle.dumps(self.model))
        _assert_same(_snapshot(self.model), _snapshot(copied), "unpickled model")
        self.model = copied

    @rule(option=st.sampled_from(sorted(_TRAINER_OPTIONS.items())))
    def fit_with_trainer_options(self, option: tuple[str, Any]) -> None:
        """A Trainer option the engine honours trains whole epochs; any other is refused by
        name, changing nothing."""
        key, value = option
        self.model.set_params(trainer_kwargs={key: value})
        try:
            if key in _REFUSED_TRAINER_OPTIONS:
                before = _snapshot(self.model)
                named = re.escape(f"trainer_kwargs[{key!r}]")  # or a warm start's own refusal
                with pytest.raises(ValueError, match=f"{named}|continue the fitted network"):
                    self.model.fit(_X, self.y)
                before["params"] = _snapshot(self.model)["params"]
                _assert_same(before, _snapshot(self.model), "a refused Trainer option")
            elif self.model.warm_start and _fitted(self.model):
                self._continues(self.model.fit, _X, self.y)
            else:
                self._succeeds(self.model.fit, _X, self.y)
                assert self.model.n_iter_ == self.model.max_epochs
        finally:
            self.model.set_params(trainer_kwargs=None)

    @precondition(lambda self: _fitted(self.model))
    @rule(form=st.sampled_from(["pipeline", "nested"]), mlflow=st.booleans())
    def save_and_load_a_pipeline(self, form: str, mlflow: bool) -> None:
        """The model inside a fitted Pipeline round-trips through the weights-only file (and
        the MLflow flavour, which writes the same file) and predicts exactly as before."""
        inner = Pipeline([("lstm", self.model)])
        pipe = inner if form == "pipeline" else Pipeline([("inner", inner)])
        folder = Path(tempfile.mkdtemp(dir=self.folder.name))
        if mlflow and _MLFLOW is not None:
            _MLFLOW.save_mlflow_model(pipe, folder / "model")
            loaded = _MLFLOW.load_mlflow_model(str(folder / "model"))
        else:
            save_model(pipe, folder / "model.pt")
            loaded = load_model(folder / "model.pt")
        np.testing.assert_array_equal(loaded.predict(_PROBE), pipe.predict(_PROBE))
        final = loaded[-1] if form == "pipeline" else loaded[-1][-1]
        _assert_same(_snapshot(self.model), _snapshot(final), "model of a loaded pipeline")

    @precondition(lambda self: _fitted(self.model))
    @rule()
    def save_and_load(self) -> None:
        path = Path(self.folder.name) / "model.pt"
        save_model(self.model, path)
        loaded = load_model(path)
        _assert_same(_snapshot(self.model), _snapshot(loaded), "loaded model")
        self.model = loaded

    # ------------------------------------------------------------------ invariants
    @invariant()
    def history_counts_epochs(self) -> None:
        if _fitted(self.model):
            assert len(self.model.history_) == self.model.n_iter_

    @invariant()
    def predictions_are_finite(self) -> None:
        if _fitted(self.model) and isinstance(self.model, LSTMRegressor):
            assert np.isfinite(self.model.predict(_PROBE)).all()


class RegressorMachine(_EstimatorMachine):
    estimator = LSTMRegressor
    y = _Y_REG
    bad_targets: ClassVar[dict[str, np.ndarray]] = {
        "nan": np.where(np.arange(len(_X)) == 3, np.nan, _Y_REG),
        "short": 1e6 + _Y_REG,  # another scale: a half-updated target scaling would show
        "invalid": np.where(np.arange(len(_X)) % 2, 1e300, -1e300),  # beyond float32
        "empty": _Y_REG,
    }
    lone_target = np.array([1e6])

    @precondition(lambda self: _fitted(self.model))
    @rule()
    def diverging_partial_fit(self) -> None:
        """Targets of 1e30 on the fitted scale overflow the loss in the first step."""
        self._diverges_loudly(self.model.partial_fit, np.full(len(_X), 1e30))


class ClassifierMachine(_EstimatorMachine):
    estimator = LSTMClassifier
    y = _Y_CLF
    bad_targets: ClassVar[dict[str, np.ndarray]] = {
        "nan": np.where(np.arange(len(_X)) == 3, np.nan, (_Y_CLF == "up").astype(float)),
        "short": np.where(_Y_CLF == "up", "buy", "sell"),  # new labels: classes_ would show
        "invalid": np.column_stack([_Y_CLF, _Y_CLF]),  # two label columns
        "empty": _Y_CLF,
    }
    lone_target = np.array(["buy"])


_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRegressorCallSequences = RegressorMachine.TestCase
TestRegressorCallSequences.settings = _SETTINGS
TestClassifierCallSequences = ClassifierMachine.TestCase
TestClassifierCallSequences.settings = _SETTINGS
