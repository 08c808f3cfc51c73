"""Nodes of the mnist_dense pipeline: the book's preparation of the images."""

from __future__ import annotations

import numpy as np

from keras_classics.core.classifier import encode_labels


def flatten_images(
    images: dict[str, np.ndarray], class_names: list[str], loss: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """As the book does: each 28 x 28 image as 784 float32 values in [0, 1]
    (``reshape((60000, 28 * 28))``, ``/ 255``), labels one-hot
    (``to_categorical``)."""
    y_train, y_test = encode_labels(
        images["y_train"], images["y_test"], "one_hot", class_names, loss
    )
    return _flat(images["x_train"]), y_train, _flat(images["x_test"]), y_test


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype("float32") / 255
