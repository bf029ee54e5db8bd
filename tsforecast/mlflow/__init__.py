"""An MLflow flavour that stores models as weights-only files, never as pickled torch objects.

``mlflow.sklearn.log_model`` with MLflow's default (skops) format cannot store a torch network.
:func:`log_model` stores the estimator or :class:`~sklearn.pipeline.Pipeline` in the
weights-only file of :func:`tsforecast.persistence.save_model`, pins the environment
(torch, Lightning, scikit-learn, pandas, numpy, tsforecast), and logs a ``python_function``
model that ``mlflow.pyfunc.load_model`` serves. Requires the ``mlflow`` extra.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import sklearn
import torch
from mlflow.models.model import ModelInfo
from mlflow.utils.autologging_utils import autologging_integration, safe_patch

from .. import __version__
from ..estimators import LSTMClassifier, LSTMRegressor
from ..estimators._base import _BaseLSTM
from ..persistence import load_model as _load
from ..persistence import save_model as _save

__all__ = [
    "autolog",
    "get_default_pip_requirements",
    "load_mlflow_model",
    "log_model",
    "save_mlflow_model",
]

_MODEL_FILE = "model.pt"
_ARTIFACT = "tsforecast_model"


def get_default_pip_requirements() -> list[str]:
    """The pinned requirements written with every model.

    Returns
    -------
    requirements : list of str
        ``tsforecast``, ``torch``, ``lightning``, ``scikit-learn``, ``pandas`` and ``numpy``
        at the versions of this process.
    """
    return [
        f"tsforecast=={__version__}",
        f"torch=={torch.__version__.split('+')[0]}",
        f"lightning=={version('lightning')}",  # read, not imported: predict never loads it
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
        f"numpy=={np.__version__}",
    ]


def _write(model: Any, directory: str) -> None:
    """``model.pt``: the model in :func:`tsforecast.persistence.save_model`'s weights-only
    file."""
    os.makedirs(directory)
    try:
        _save(model, os.path.join(directory, _MODEL_FILE))
    except TypeError as exc:
        raise TypeError(
            f"{exc} For other objects use "
            'mlflow.sklearn.log_model(model, name=..., serialization_format="cloudpickle").'
        ) from exc


def _read(directory: str) -> Any:
    return _load(os.path.join(directory, _MODEL_FILE))


with warnings.catch_warnings():
    # MLflow asks for type hints on predict when the class is defined: they would become a
    # data schema, and predict takes 2-D and 3-D arrays and DataFrames alike.
    warnings.filterwarnings("ignore", ".*Add type hints to the `predict` method")

    class _PyfuncModel(mlflow.pyfunc.PythonModel):
        """What ``mlflow.pyfunc.load_model`` serves: ``predict`` of the stored model."""

        def load_context(self, context: Any) -> None:
            self.model = _read(context.artifacts[_ARTIFACT])

        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return self.model.predict(model_input)


@contextmanager
def _pyfunc_arguments(model: Any, pip_requirements: list[str] | None) -> Iterator[dict]:
    """Arguments of ``mlflow.pyfunc.save_model``/``log_model``, the files written aside."""
    with tempfile.TemporaryDirectory() as workdir:
        directory = os.path.join(workdir, _ARTIFACT)
        _write(model, directory)
        yield {
            "python_model": os.path.join(os.path.dirname(__file__), "_pyfunc_model.py"),
            "artifacts": {_ARTIFACT: directory},
            "pip_requirements": pip_requirements or get_default_pip_requirements(),
        }


def save_mlflow_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    input_example: Any = None,
    signature: Any = None,
    pip_requirements: list[str] | None = None,
) -> None:
    """Save a fitted estimator or Pipeline as an MLflow model directory.

    Parameters
    ----------
    model : estimator
        Fitted: an LSTM estimator, or an estimator of scikit-learn or tsforecast holding
        them (a Pipeline, :class:`~tsforecast.compose.RelativeTargetRegressor`,
        :class:`~tsforecast.compose.AdaptiveConformalRegressor`), as
        :func:`tsforecast.persistence.save_model` stores.
    path : str or path-like
        Directory to create.
    input_example : array-like or DataFrame, default=None
        Example input saved with the model (MLflow infers the signature from it).
    signature : mlflow.models.ModelSignature, default=None
        Input and output schema.
    pip_requirements : list of str, default=None
        Requirements of the serving environment; ``None`` uses
        :func:`get_default_pip_requirements`.

    Examples
    --------
    >>> import numpy as np, mlflow, tempfile, os
    >>> from tsforecast import LSTMRegressor
    >>> import tsforecast.mlflow
    >>> X = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    >>> model = LSTMRegressor(units=4, max_epochs=1, random_state=0).fit(X, X.sum(axis=1))
    >>> path = os.path.join(tempfile.mkdtemp(), "lstm")
    >>> tsforecast.mlflow.save_mlflow_model(model, path)
    >>> served = mlflow.pyfunc.load_model(path)
    >>> np.array_equal(served.predict(X), model.predict(X))
    True
    """
    with _pyfunc_arguments(model, pip_requirements) as arguments:
        mlflow.pyfunc.save_model(
            os.fspath(path), input_example=input_example, signature=signature, **arguments
        )


def log_model(
    model: Any,
    name: str,
    *,
    input_example: Any = None,
    signature: Any = None,
    pip_requirements: list[str] | None = None,
    registered_model_name: str | None = None,
) -> ModelInfo:
    """Log a fitted estimator or Pipeline to the active MLflow run.

    Parameters
    ----------
    model : estimator
        As in :func:`save_mlflow_model`.
    name : str
        Name of the logged model.
    input_example, signature, pip_requirements
        As in :func:`save_mlflow_model`.
    registered_model_name : str, default=None
        Also register the model under this name.

    Returns
    -------
    model_info : mlflow.models.model.ModelInfo
        Its ``model_uri`` loads the model with :func:`load_mlflow_model` or
        ``mlflow.pyfunc.load_model``.
    """
    with _pyfunc_arguments(model, pip_requirements) as arguments:
        return mlflow.pyfunc.log_model(
            name=name,
            input_example=input_example,
            signature=signature,
            registered_model_name=registered_model_name,
            **arguments,
        )


def load_mlflow_model(model_uri: str) -> Any:
    """Load a model logged by :func:`log_model` as the fitted estimator or Pipeline.

    Parameters
    ----------
    model_uri : str
        E.g. ``"runs:/<run_id>/<name>"`` or ``ModelInfo.model_uri``.

    Returns
    -------
    model : estimator
        With every method of the original (``predict_proba``, ``predict_quantiles``, ...).
    """
    return mlflow.pyfunc.load_model(model_uri).unwrap_python_model().model


def _log_fit(original: Any, self: _BaseLSTM, *args: Any, **kwargs: Any) -> Any:
    fitted = original(self, *args, **kwargs)
    mlflow.log_params(self.get_params(deep=False))
    for record in self.history_:
        epoch = int(record["epoch"])
        mlflow.log_metrics({k: v for k, v in record.items() if k != "epoch"}, step=epoch)
    return fitted


@autologging_integration("tsforecast")
def autolog(disable: bool = False, silent: bool = False) -> None:
    """Log the parameters and per-epoch losses of every LSTM estimator's ``fit`` to MLflow.

    ``mlflow.sklearn.autolog`` patches scikit-learn's own classes only, so a bare
    :class:`~tsforecast.LSTMRegressor` logs nothing under it. Call both to log Pipelines
    (scikit-learn's autolog) and the estimators themselves. Without an active run, each ``fit``
    starts one.

    Parameters
    ----------
    disable : bool, default=False
        Turn the logging off again.
    silent : bool, default=False
        Hide MLflow's event logs and warnings about autologging.
    """
    for cls in (LSTMRegressor, LSTMClassifier):
        safe_patch("tsforecast", cls, "fit", _log_fit, manage_run=True)
