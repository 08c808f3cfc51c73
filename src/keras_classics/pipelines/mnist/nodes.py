"""Nodes of the MNIST pipeline: prepare the images, and the image reports."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from keras_classics.core import plots
from keras_classics.core.classifier import (
    encode_labels,
    predicted_classes,
    true_classes,
)


def prepare_images(
    images: dict[str, np.ndarray],
    label_encoding: str,
    class_names: list[str],
    loss: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Images as ``(N, 28, 28, 1)`` float32 in [0, 1]; labels one-hot or integer."""
    y_train, y_test = encode_labels(
        images["y_train"], images["y_test"], label_encoding, class_names, loss
    )
    return _scaled(images["x_train"]), y_train, _scaled(images["x_test"]), y_test


def labelled_test_images(
    x_test: np.ndarray,
    y_test: np.ndarray,
    test_outputs: np.ndarray,
    class_names: list[str],
    reports: dict[str, Any],
) -> Figure:
    """The first test images with their true and predicted labels."""
    count = reports["grid_images"]
    truth, predicted = (
        true_classes(y_test[:count]),
        predicted_classes(test_outputs[:count]),
    )
    titles = [
        f"{class_names[t]} -> {class_names[p]}"
        for t, p in zip(truth, predicted, strict=True)
    ]
    return plots.image_grid(
        x_test[:count], titles, title="Test images: true -> predicted"
    )


def confident_mistakes(
    x_test: np.ndarray,
    y_test: np.ndarray,
    test_outputs: np.ndarray,
    class_names: list[str],
    reports: dict[str, Any],
) -> Figure:
    """The misclassified test images the model was most confident about."""
    truth, predicted = true_classes(y_test), predicted_classes(test_outputs)
    confidence = test_outputs.max(axis=1)
    wrong = np.flatnonzero(truth != predicted)
    worst = wrong[np.argsort(-confidence[wrong])][: reports["mistakes"]]
    titles = [
        f"{class_names[truth[i]]} -> {class_names[predicted[i]]} ({confidence[i]:.0%})"
        for i in worst
    ]
    return plots.image_grid(
        x_test[worst], titles, title="Most confident mistakes: true -> predicted"
    )


def _scaled(images: np.ndarray) -> np.ndarray:
    return (images.astype("float32") / 255.0)[..., np.newaxis]
