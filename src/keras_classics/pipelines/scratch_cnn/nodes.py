"""Nodes of the scratch CNN pipeline: NumPy only for the network itself."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from keras_classics.core.preparation import Preparation
from keras_classics.core.servable import ServableModel
from keras_classics.scratch.network import ScratchCNN

logger = logging.getLogger(__name__)


def select_subsets(
    images: dict[str, np.ndarray], train_samples: int, test_samples: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first ``train_samples`` training and ``test_samples`` test images (Zhou's
    subsets), raw 0..255 ``(N, 28, 28)`` with integer labels."""
    return (
        images["x_train"][:train_samples],
        images["y_train"][:train_samples].astype(np.int64),
        images["x_test"][:test_samples],
        images["y_test"][:test_samples].astype(np.int64),
    )


def build_network(model: dict[str, Any], seed: int) -> dict[str, int]:
    """The untrained network as config data, as a Keras model's architecture: its
    filters, and the seed its initial weights are drawn from."""
    network = ScratchCNN(num_filters=model["filters"], seed=seed)
    weights = sum(value.size for value in network.get_weights().values())
    logger.info(
        "Conv3x3(%d) -> MaxPool2 -> Softmax(10): %d weights", model["filters"], weights
    )
    return {"num_filters": model["filters"], "seed": seed}


def train(
    architecture: dict[str, int],
    x_train: np.ndarray,
    y_train: np.ndarray,
    training: dict[str, Any],
    seed: int,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train Zhou's network with mini-batch SGD; the trained weights, and the history
    with the training time in seconds."""
    network = ScratchCNN(**architecture)

    def report(epoch: int, logs: dict[str, float]) -> None:
        logger.info(  # as Keras' fits show it (keras_classics.core.training)
            "Training: epoch %d/%d, loss %.4f, accuracy %.4f",
            epoch + 1,
            training["epochs"],
            logs["loss"],
            logs["accuracy"],
        )

    started = time.perf_counter()
    history = network.fit(
        x_train,
        y_train,
        epochs=training["epochs"],
        batch_size=training["batch_size"],
        learn_rate=training["learn_rate"],
        seed=seed,
        on_epoch_end=report,
    )
    return network.get_weights(), {
        "history": history,
        "seconds": time.perf_counter() - started,
    }


def evaluate(
    weights: dict[str, np.ndarray], x_test: np.ndarray, y_test: np.ndarray
) -> tuple[dict[str, float], np.ndarray]:
    """Test loss and accuracy, and the class probabilities of every test image."""
    network = ScratchCNN(num_filters=len(weights["conv/filters"]))
    network.set_weights(weights)
    loss, accuracy = network.loss_and_accuracy(x_test, y_test)
    logger.info("Test accuracy %.4f, loss %.4f", accuracy, loss)
    return {"test_loss": loss, "test_accuracy": accuracy}, network.predict_proba(x_test)


def weights_as_lists(weights: dict[str, np.ndarray]) -> dict[str, list]:
    """The weights as nested lists, for a readable JSON file."""
    return {name: value.tolist() for name, value in weights.items()}


def package_model(
    weights: dict[str, np.ndarray], preparation: dict[str, Any], x_test: np.ndarray
) -> ServableModel:
    """The weights with their preparation, and two raw test images as MLflow's
    example."""
    return ServableModel(weights, Preparation.from_dict(preparation), x_test[:2])
