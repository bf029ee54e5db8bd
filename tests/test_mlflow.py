"""tsforecast.mlflow: weights-only models that MLflow logs, pins and serves exactly."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_same_state
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer

mlflow = pytest.importorskip("mlflow")  # the "mlflow" extra, installed by `make venv`
tsf_mlflow = pytest.importorskip("tsforecast.mlflow")

_FAST = {"units": 4, "max_epochs": 2, "random_state": 0}


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    uri = (tmp_path / "mlruns").as_uri()  # a local file store, as the issue tried
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3.17 would ask for a database
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


def test_pipeline_round_trip_in_a_new_process_predicts_exactly(tracking, tmp_path):
    index = pd.date_range("2024-01-01", periods=80, freq="B")
    X = pd.DataFrame({"ret": np.random.default_rng(0).normal(size=80)}, index=index)
    pipe = make_pipeline(
        StandardScaler(), SlidingWindowTransformer(window=5), LSTMRegressor(**_FAST)
    ).fit(X, X["ret"].to_numpy())
    with mlflow.start_run():
        info = tsf_mlflow.log_model(pipe, name="model")
    X.to_pickle(tmp_path / "X.pkl")
    script = (
        "import sys, numpy as np, pandas as pd, mlflow\n"
        "X = pd.read_pickle(sys.argv[2])\n"
        "np.save(sys.argv[3], mlflow.pyfunc.load_model(sys.argv[1]).predict(X))\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, info.model_uri, tmp_path / "X.pkl", tmp_path / "y.npy"],
        check=True,
        timeout=120,
    )
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), pipe.predict(X))
    requirements = Path(mlflow.pyfunc.get_model_dependencies(info.model_uri)).read_text().split()
    for pinned in ("torch==", "lightning==", "scikit-learn==", "tsforecast=="):
        assert any(line.startswith(pinned) for line in requirements), requirements
    # load_model gives the Pipeline back, with its estimator's fitted state.
    loaded = tsf_mlflow.load_mlflow_model(info.model_uri)
    assert loaded.steps[-1][1].history_ == pipe.steps[-1][1].history_


@pytest.mark.parametrize(
    "form",
    [
        "set_output_pandas",
        "windows_on_a_frame",
        "lazy",
        "returns",
        "panel",
        "relative_target",
        "conformal",
        "quantiles",
    ],
)
def test_every_documented_form_on_time_indexed_data_loads_back(form, forms, tmp_path):
    """Old code: load_model and mlflow.pyfunc.load_model failed ("holds types from outside
    tsforecast and scikit-learn: pandas.Timedelta, pandas.Timestamp")."""
    model, X_train, X_test = forms[form]
    tsf_mlflow.save_mlflow_model(model, tmp_path / "m")
    loaded = tsf_mlflow.load_mlflow_model(str(tmp_path / "m"))
    served = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert_same_state(loaded, model)  # the same classes and parameters
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rows after the training rows read their history
        for X in (X_train, X_test):
            expected = model.predict(X)
            np.testing.assert_array_equal(loaded.predict(X), expected)
            np.testing.assert_array_equal(served.predict(X), expected)


def test_save_model_keeps_classifier_probabilities(tmp_path):
    X = np.random.default_rng(1).normal(size=(40, 5)).astype(np.float32)
    clf = LSTMClassifier(**_FAST).fit(X, np.where(X[:, -1] > 0, "up", "down"))
    tsf_mlflow.save_mlflow_model(clf, tmp_path / "clf", input_example=X[:3])
    loaded = tsf_mlflow.load_mlflow_model(str(tmp_path / "clf"))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    served = mlflow.pyfunc.load_model(str(tmp_path / "clf"))
    np.testing.assert_array_equal(served.predict(X), clf.predict(X))


def test_objects_it_cannot_store_are_refused_with_the_alternative(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    X = np.random.default_rng(1).normal(size=(40, 3))
    wrapped = make_pipeline(FunctionTransformer(np.tanh), LSTMRegressor(**_FAST)).fit(X, X[:, 0])
    with pytest.raises(TypeError, match=r'func: it is a numpy.ufunc.*"cloudpickle"'):
        tsf_mlflow.save_mlflow_model(wrapped, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_autolog_logs_a_bare_estimators_parameters_and_losses(tracking):
    mlflow.set_experiment("autolog")
    tsf_mlflow.autolog()
    try:
        X = np.random.default_rng(2).normal(size=(40, 4)).astype(np.float32)
        model = LSTMRegressor(**{**_FAST, "max_epochs": 3}).fit(X, X.sum(axis=1))
    finally:
        tsf_mlflow.autolog(disable=True)
    run = mlflow.last_active_run()
    assert run.data.params["units"] == "4" and run.data.params["max_epochs"] == "3"
    losses = mlflow.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
    assert [m.step for m in losses] == [0, 1, 2]
    assert [m.value for m in losses] == pytest.approx([r["train_loss"] for r in model.history_])
