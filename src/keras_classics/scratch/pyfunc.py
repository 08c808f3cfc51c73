"""The scratch CNN as an MLflow pyfunc model, and a "flavor" module for kedro-mlflow.

A node returns ``ServableModel(weights, preparation, input_example)``; kedro-mlflow
calls ``log_model`` here, which logs ``ScratchCNNModel`` (a
``mlflow.pyfunc.PythonModel``) with the weights and the preparation as JSON artifacts,
a signature and the input example, so that
``mlflow.pyfunc.load_model(uri).predict(images)`` answers with the digit and its
probability for raw 28 x 28 images (0-255), as the Keras models' do
(``keras_classics.core.predictor``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from keras_classics.core.preparation import Preparation, answers, prepare
from keras_classics.core.servable import ServableModel
from keras_classics.scratch.network import ScratchCNN

load_model = mlflow.pyfunc.load_model


def network_from(weights: dict[str, Any]) -> ScratchCNN:
    """The trained network with these weights (arrays or nested lists)."""
    network = ScratchCNN(num_filters=len(weights["conv/filters"]))
    network.set_weights({name: np.asarray(value) for name, value in weights.items()})
    return network


def predict(network: ScratchCNN, preparation: Preparation, images) -> pd.DataFrame:
    """Answers of the network for raw images."""
    return answers(network.predict_proba(prepare(images, preparation)), preparation)


class ScratchCNNModel(mlflow.pyfunc.PythonModel):
    """Answers (``prediction``, ``probability``) for raw images (N, 28, 28), 0-255."""

    def load_context(self, context) -> None:
        self.network = network_from(
            json.loads(Path(context.artifacts["weights"]).read_text())
        )
        self.preparation = Preparation.from_dict(
            json.loads(Path(context.artifacts["preparation"]).read_text())
        )

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        return predict(self.network, self.preparation, model_input)


def log_model(servable: ServableModel, name: str, **kwargs: Any):
    """Log ``ScratchCNNModel`` with the weights, a signature and the input example."""
    example = servable.input_example.astype(np.float64)
    network = network_from(servable.model)
    signature = infer_signature(
        example, predict(network, servable.preparation, example)
    )
    with tempfile.TemporaryDirectory() as folder:
        weights_file = Path(folder) / "weights.json"
        weights_file.write_text(
            json.dumps({key: value.tolist() for key, value in servable.model.items()})
        )
        preparation_file = Path(folder) / "preparation.json"
        preparation_file.write_text(json.dumps(servable.preparation.to_dict()))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=ScratchCNNModel(),
            artifacts={
                "weights": str(weights_file),
                "preparation": str(preparation_file),
            },
            signature=signature,
            input_example=example,
            pip_requirements=[
                f"numpy=={np.__version__}",
                f"pandas=={pd.__version__}",
                f"mlflow=={mlflow.__version__}",
            ],
            **kwargs,
        )
