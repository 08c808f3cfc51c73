"""Nodes of the Reuters pipeline: ingest, label encodings and Reuters' reports."""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_classics.datasets import keras_semantics

LABEL_ENCODINGS = {
    # encoding: the loss that fits it
    "one_hot": "categorical_crossentropy",
    "integer": "sparse_categorical_crossentropy",
}


def load_newswires(
    raw: dict[str, np.ndarray], load: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Token-id newswires and topic ids, as ``keras.datasets.reuters.load_data``."""
    (x_train, y_train), (x_test, y_test) = keras_semantics.reuters(raw, **load)
    return x_train, y_train, x_test, y_test


def encode_labels(
    train_topics: np.ndarray,
    test_topics: np.ndarray,
    label_encoding: str,
    class_names: list[str],
    loss: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Topic ids as one-hot rows (for ``categorical_crossentropy``) or as integers
    (for ``sparse_categorical_crossentropy``): the same information, two encodings."""
    if label_encoding not in LABEL_ENCODINGS:
        raise ValueError(
            f"reuters.label_encoding is {label_encoding!r}; use one of "
            f"{', '.join(LABEL_ENCODINGS)}."
        )
    if loss != LABEL_ENCODINGS[label_encoding]:
        raise ValueError(
            f"reuters.label_encoding {label_encoding!r} needs the loss "
            f"{LABEL_ENCODINGS[label_encoding]!r}, but reuters.model.compile.loss is "
            f"{loss!r}: change one of them."
        )
    if label_encoding == "integer":
        return train_topics.astype(np.int64), test_topics.astype(np.int64)
    identity = np.eye(len(class_names), dtype=np.float32)
    return identity[train_topics], identity[test_topics]


def random_baseline(test_topics: np.ndarray, seed: int) -> dict[str, float]:
    """Accuracy of a shuffled copy of the test labels (the book's random classifier)."""
    shuffled = np.random.default_rng(seed).permutation(test_topics)
    return {"random_baseline_accuracy": float(np.mean(shuffled == test_topics))}
