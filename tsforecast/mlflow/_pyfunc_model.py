"""The pyfunc model of :mod:`tsforecast.mlflow`, logged as code: MLflow runs this file when it
loads the model, so that no pickled object is stored."""

import mlflow

from tsforecast.mlflow import _PyfuncModel

mlflow.models.set_model(_PyfuncModel())
