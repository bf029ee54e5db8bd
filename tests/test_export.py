"""ONNX export: the graph predicts what predict/predict_proba return, for every exportable model."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMClassifier, LSTMRegressor
from tsforecast.export import to_onnx

onnxruntime = pytest.importorskip("onnxruntime")  # the "onnx" extra, installed by `make venv`

_RNG = np.random.default_rng(0)
_X2 = _RNG.normal(size=(48, 6)).astype(np.float32)
_X3 = _RNG.normal(size=(48, 6, 3)).astype(np.float32)
# Targets in units far from the network's standardized outputs, so the scaling is exercised.
_Y = 3.0 * _X3[:, :, 0].sum(axis=1) + 10.0
_FAST = {"units": 4, "max_epochs": 2, "random_state": 0}

CASES = {
    "lstm-2d": (LSTMRegressor(**_FAST), _X2, _Y),
    "gru-3d": (LSTMRegressor(cell="gru", **_FAST), _X3, _Y),
    "bidirectional-per-layer-units-2-outputs": (
        LSTMRegressor(**{**_FAST, "units": (5, 4)}, num_layers=2, bidirectional=True),
        _X3,
        np.c_[_Y, -2 * _Y],
    ),
    "quantile-median": (LSTMRegressor(loss="quantile", **_FAST), _X3, _Y),
    "standardized-inputs": (LSTMRegressor(standardize_inputs=True, **_FAST), _X3 * 50 - 7, _Y),
    "classifier-3-classes": (
        LSTMClassifier(**_FAST),
        _X3,
        np.array(["down", "flat", "up"])[np.digitize(_X3[:, -1, 0], [-0.5, 0.5])],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_onnx_graph_predicts_like_the_estimator(name, tmp_path):
    model, X, y = CASES[name]
    model.fit(X, y)
    to_onnx(model, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    expected = model.predict_proba if isinstance(model, LSTMClassifier) else model.predict
    # Dynamic batch axis, and a dynamic time axis for 3-D models (2-D ones read fixed columns).
    batches = [X, X[:1]] if X.ndim == 2 else [X, X[:1], X[:5, :2], np.concatenate([X, X], 1)]
    for batch in batches:
        served = session.run(None, {"X": batch})[0]
        assert served.shape == expected(batch).shape
        np.testing.assert_allclose(served, expected(batch), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("model", "X", "wrong"),
    [
        (LSTMRegressor(**_FAST), _X2, _X2[:, :5]),
        (LSTMRegressor(**_FAST), _X2, np.c_[_X2, _X2[:, :3]]),
        (LSTMRegressor(**_FAST), _X3, _X3[:, :, :2]),
        (LSTMRegressor(linear_skip=True, **_FAST), _X3, _X3[:, :4]),
    ],
)
def test_the_graph_refuses_inputs_predict_refuses(model, X, wrong, tmp_path):
    """Issue 22: the graph of a 2-D model answered for any number of columns."""
    model.fit(X, np.sin(_Y))  # not linear in the window: the linear skip leaves work
    with pytest.raises(ValueError, match="features"):
        model.predict(wrong)
    to_onnx(model, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument, match="dim"):
        session.run(None, {"X": wrong})
    np.testing.assert_allclose(session.run(None, {"X": X})[0], model.predict(X), atol=1e-5)


def test_refused_models_name_the_reason(tmp_path):
    peephole = LSTMRegressor(cell="peephole", **_FAST).fit(_X2, _Y)
    with pytest.raises(ValueError, match=r"peephole.*fix the time axis"):
        to_onnx(peephole, tmp_path / "p.onnx")
    tokens = LSTMClassifier(embedding_dim=3, **_FAST).fit([[1, 2, 3], [2, 1, 0]] * 8, [0, 1] * 8)
    with pytest.raises(ValueError, match=r"Token models.*packed"):
        to_onnx(tokens, tmp_path / "t.onnx")
    with pytest.raises(
        TypeError,
        match="fitted LSTMRegressor, LSTMClassifier or LSTMEnsembleRegressor; got Pipeline",
    ):
        to_onnx(make_pipeline(LSTMRegressor()), tmp_path / "x.onnx")
    assert not list(tmp_path.iterdir())
