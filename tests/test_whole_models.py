"""save_model / load_model of whole models: every documented pipeline form, weights-only."""

import warnings

import numpy as np
import pytest
import torch
from conftest import FAST, assert_same_state
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, load_model, save_model
from tsforecast.preprocessing import predict_with_history

_FORMS = [
    "set_output_pandas",
    "windows_on_a_frame",
    "lazy",
    "returns",
    "panel",
    "relative_target",
    "conformal",
    "quantiles",
]


def _same_forecasts(model, loaded, X_train, X_test):
    """The loaded model forecasts as the saved one: the fitted rows, the rows continuing them
    (the transformers' history), and the form's other outputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no history lost on the way
        for rows in (X_train, X_test):
            np.testing.assert_array_equal(loaded.predict(rows), model.predict(rows))
    if hasattr(model, "predict_interval"):
        np.testing.assert_array_equal(
            loaded.predict_interval(X_test), model.predict_interval(X_test)
        )
    if getattr(model, "steps", [[None, None]])[-1][1].__class__.__name__ == "LSTMRegressor" and (
        model[-1].loss == "quantile"
    ):
        quantiles = [
            predict_with_history(m, X_train.iloc[-10:], X_test, method="predict_quantiles")
            for m in (model, loaded)
        ]
        np.testing.assert_array_equal(*quantiles)


@pytest.mark.parametrize("form", _FORMS)
def test_every_documented_form_round_trips_exactly(form, forms, tmp_path):
    """Old code: TypeError "save_model saves LSTMRegressor and LSTMClassifier, not Pipeline"."""
    model, X_train, X_test = forms[form]
    save_model(model, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt")
    assert type(loaded) is type(model)
    assert_same_state(loaded, model)  # the same classes and parameters
    _same_forecasts(model, loaded, X_train, X_test)
    # Nothing but tensors, numbers, strings, lists and dicts: read without running code.
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert payload["format"] == "tsforecast-model" and "estimator" in payload


def test_a_value_a_file_cannot_hold_is_named_and_nothing_is_written(rng, tmp_path):
    X = rng.normal(size=(40, 2))
    pipe = make_pipeline(FunctionTransformer(np.tanh), LSTMRegressor(**FAST)).fit(X, X[:, 0])
    with pytest.raises(TypeError, match=r"cannot store estimator\.steps\[0\]\[1\]\.func: it is"):
        save_model(pipe, tmp_path / "m.pt")
    with pytest.raises(TypeError, match=r"cannot store estimator: it is a builtins\.object"):
        save_model(object(), tmp_path / "m.pt")
    with pytest.raises(ValueError, match="LSTMRegressor instance is not fitted"):
        save_model(LSTMRegressor(), tmp_path / "m.pt")
    assert not list(tmp_path.iterdir())


def _saved_pipeline(rng, path):
    X = rng.normal(size=(40, 2))
    pipe = make_pipeline(
        StandardScaler(), SlidingWindowTransformer(window=3), LSTMRegressor(**FAST)
    )
    save_model(pipe.fit(X, X[:, 0]), path)
    return torch.load(path, weights_only=True)


@pytest.mark.parametrize(
    ("alter", "match"),
    [
        (lambda t: t.update(object="os:system"), "'os:system' is not a class of scikit-learn"),
        (
            lambda t: t.update(object="sklearn.utils:Bunch"),
            "'sklearn.utils:Bunch' is not an estimator class",
        ),
        (
            lambda t: t.update(object="sklearn.pipeline:NoSuchPipeline"),
            "does not exist in this version",
        ),
        (lambda t: t["state"].update({"not a name": 1}), "has an attribute 'not a name'"),
        (
            lambda t: t["state"].update(steps={"pickle": b"x"}),
            r"estimator\.steps has an unknown kind of value .pickle.",
        ),
        (
            lambda t: t["state"]["steps"]["list"][2]["tuple"][1]["lstm"].update(params=None),
            "'params' entry should be a dict, got NoneType",
        ),
    ],
)
def test_a_hand_altered_pipeline_file_gives_a_value_error(rng, tmp_path, alter, match):
    path = tmp_path / "m.pt"
    payload = _saved_pipeline(rng, path)
    alter(payload["estimator"])
    torch.save(payload, path)
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_a_file_never_restores_an_lstm_as_a_plain_object_or_a_cache_directory(tmp_path):
    """The hostile try: an LSTM stored as a generic object skipped every check (its
    checkpoint_path and default_root_dir came back), and a Pipeline's memory= came back, so
    a refit wrote to (and joblib read pickles from) a directory the file chose."""
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4, 1)).astype(np.float32)
    y = X[:, -1, 0]
    pipe = Pipeline([("m", LSTMRegressor(units=2, max_epochs=1))], memory=str(tmp_path / "cache"))
    save_model(pipe.fit(X, y), tmp_path / "p.pt")
    with pytest.warns(UserWarning, match="memory"):
        assert load_model(tmp_path / "p.pt").memory is None
    payload = torch.load(tmp_path / "p.pt", weights_only=True)
    evil = LSTMRegressor(checkpoint_path=str(tmp_path / "pwned.ckpt"))
    node = {  # the LSTM as a generic object: its parameters are plain values
        "object": f"{type(evil).__module__}:{type(evil).__qualname__}",
        "state": vars(evil),
    }
    payload["estimator"]["state"]["steps"] = {"list": [{"tuple": ["m", node]}]}
    torch.save(payload, tmp_path / "forged.pt")
    with warnings.catch_warnings(), pytest.raises(ValueError, match="as an object"):
        warnings.simplefilter("ignore")
        load_model(tmp_path / "forged.pt")
