"""An MLflow model "flavor" module for kedro-mlflow's model datasets.

kedro-mlflow calls ``log_model(data, **save_args)`` with whatever the node returned,
so save arguments that depend on data (a signature, an input example) can't come from
the catalog. A node returns ``ServableModel(model, input_example)``; this module logs
it in MLflow's own Keras flavor, with the signature inferred from the example and the
model's predictions. Load it with ``mlflow.pyfunc.load_model`` or ``load_model`` here.

``mlflow.keras`` imports Keras (and so TensorFlow) with it: it is imported when a model
is logged or loaded, not with this module, which kedro-mlflow imports with the catalog
(``kedro viz build`` too).
"""

from __future__ import annotations

import os
from typing import Any

from mlflow.models import Model, infer_signature

from keras_classics.core.servable import ServableModel


def load_model(model_uri: str, **kwargs: Any):
    """The logged Keras model (``mlflow.keras.load_model``)."""
    import mlflow.keras  # noqa: PLC0415

    return mlflow.keras.load_model(model_uri, **kwargs)


class _KerasFlavor:
    """``mlflow.keras`` with the model folder created before the input example is saved.

    MLflow 3.17's ``mlflow.keras.save_model`` writes ``input_example.json`` into a
    folder it has not created yet, so ``log_model(..., input_example=...)`` fails with
    FileNotFoundError.
    """

    __name__ = "mlflow.keras"

    @staticmethod
    def save_model(path: str, **kwargs: Any) -> None:
        import mlflow.keras  # noqa: PLC0415

        os.makedirs(path, exist_ok=True)
        mlflow.keras.save_model(path=path, **kwargs)


def log_model(servable: ServableModel, name: str, **kwargs: Any):
    """Log the model in MLflow's keras flavor with its signature and input example."""
    import mlflow.keras  # noqa: PLC0415

    example = servable.input_example
    signature = infer_signature(example, servable.model.predict(example, verbose=0))
    # Explicit requirements: MLflow's inference of them re-imports the model in a
    # subprocess, which costs several seconds per logged model.
    kwargs.setdefault("pip_requirements", mlflow.keras.get_default_pip_requirements())
    return Model.log(
        artifact_path=None,
        name=name,
        flavor=_KerasFlavor,
        model=servable.model,
        signature=signature,
        input_example=example,
        **kwargs,
    )
