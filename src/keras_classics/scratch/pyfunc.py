"""The scratch CNN as an MLflow pyfunc model, and a "flavor" module for kedro-mlflow.

A node returns ``ServableWeights(weights, input_example)``; kedro-mlflow calls
``log_model`` here, which logs ``ScratchCNNModel`` (a ``mlflow.pyfunc.PythonModel``)
with the weights as a JSON artifact, a signature and the input example, so that
``mlflow.pyfunc.load_model(uri).predict(images)`` returns class probabilities.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from mlflow.models import infer_signature

from keras_classics.scratch.network import ScratchCNN, ServableWeights

load_model = mlflow.pyfunc.load_model


class ScratchCNNModel(mlflow.pyfunc.PythonModel):
    """Predicts class probabilities (N, 10) from raw images (N, 28, 28), 0..255."""

    def load_context(self, context) -> None:
        weights = json.loads(Path(context.artifacts["weights"]).read_text())
        filters = len(weights["conv/filters"])
        self.network = ScratchCNN(num_filters=filters)
        self.network.set_weights(
            {name: np.asarray(value) for name, value in weights.items()}
        )

    def predict(self, context, model_input, params=None) -> np.ndarray:
        return self.network.predict_proba(np.asarray(model_input, dtype=np.float64))


def log_model(servable: ServableWeights, name: str, **kwargs: Any):
    """Log ``ScratchCNNModel`` with the weights, a signature and the input example."""
    model = ScratchCNNModel()
    network = ScratchCNN(num_filters=len(servable.weights["conv/filters"]))
    network.set_weights(servable.weights)
    example = servable.input_example.astype(np.float64)
    signature = infer_signature(example, network.predict_proba(example))
    with tempfile.TemporaryDirectory() as folder:
        weights_file = Path(folder) / "weights.json"
        weights_file.write_text(
            json.dumps({key: value.tolist() for key, value in servable.weights.items()})
        )
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=model,
            artifacts={"weights": str(weights_file)},
            signature=signature,
            input_example=example,
            pip_requirements=[
                f"numpy=={np.__version__}",
                f"mlflow=={mlflow.__version__}",
            ],
            **kwargs,
        )
