"""The served model of every Keras pipeline: raw inputs in, answers out.

``KerasPredictor`` is an MLflow pyfunc model holding the trained Keras model (its
``.keras`` file) and its ``Preparation`` (JSON). ``predict`` prepares what a person
has - feature rows, texts, 28 x 28 images (0-255) - exactly as the batch-prediction
pipelines do (``keras_classics.core.preparation``), runs the model and answers with
the class name and its probability (or the predicted value).

Why a pyfunc around the Keras model rather than preprocessing layers inside it, or
kedro-mlflow's ``pipeline_ml_factory``: Keras' built-in layers can't give word ids
with ``load_data``'s conventions (``start_char`` first, ``oov_char`` for rare words)
nor answer with class names, and ``pipeline_ml_factory`` logs one model per ``kedro
run`` from the main process after the pipeline, from its file artifacts, which a
sweep's variants (a model each) and the parallel and Dask runners (models packaged in
workers) don't fit. This model is logged by the catalog's
``MlflowModelTrackingDataset`` from whichever process packages it.

This module is kedro-mlflow's "flavor" for the catalog: ``log_model`` and
``load_model``. Keras is imported when a model is logged or loaded.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import infer_signature

from keras_classics.core.preparation import Preparation, answers, prepare
from keras_classics.core.servable import ServableModel

BATCH_SIZE = 512
load_model = mlflow.pyfunc.load_model


def predict(model, preparation: Preparation, values) -> pd.DataFrame:
    """Answers of a Keras ``model`` for raw ``values``."""
    from keras_classics.core import training  # noqa: PLC0415 (imports TensorFlow)

    inputs = prepare(values, preparation)
    outputs = training.predict(model, inputs, batch_size=BATCH_SIZE)
    return answers(outputs, preparation)


class LocalPredictor:
    """A ``.keras`` file's model with the preparation saved beside it, answering as
    the served model does (``<name>_predict.model_uri=<a .keras file>``)."""

    def __init__(self, model, preparation: Preparation) -> None:
        self.model = model
        self.preparation = preparation

    def predict(self, values) -> pd.DataFrame:
        return predict(self.model, self.preparation, values)


class KerasPredictor(mlflow.pyfunc.PythonModel):
    """Answers (``prediction``, ``probability``, ...) for raw inputs."""

    def load_context(self, context) -> None:
        import keras  # noqa: PLC0415

        self.model = keras.saving.load_model(context.artifacts["model"], safe_mode=True)
        self.preparation = Preparation.from_dict(
            json.loads(Path(context.artifacts["preparation"]).read_text())
        )

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        return predict(self.model, self.preparation, model_input)


def log_model(servable: ServableModel, name: str, **kwargs: Any):
    """Log ``KerasPredictor`` for the servable model, with its signature (raw inputs
    to answers) and input example."""
    import mlflow.keras  # noqa: PLC0415

    if servable.registered_model_name:
        kwargs["registered_model_name"] = servable.registered_model_name
    example = servable.input_example
    signature = infer_signature(
        example, predict(servable.model, servable.preparation, example)
    )
    with tempfile.TemporaryDirectory() as folder:
        model_file = Path(folder) / "model.keras"
        servable.model.save(model_file)
        preparation_file = Path(folder) / "preparation.json"
        preparation_file.write_text(json.dumps(servable.preparation.to_dict()))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=KerasPredictor(),
            artifacts={"model": str(model_file), "preparation": str(preparation_file)},
            signature=signature,
            input_example=example,
            # Explicit requirements: MLflow's inference of them re-imports the model
            # in a subprocess, which costs seconds per logged model.
            pip_requirements=[
                *mlflow.keras.get_default_pip_requirements(),
                f"mlflow=={mlflow.__version__}",
                f"pandas=={pd.__version__}",
            ],
            **kwargs,
        )
