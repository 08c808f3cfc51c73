"""Nodes of the Reuters pipeline: ingest, label encodings and Reuters' reports."""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_classics.datasets import keras_semantics


def load_newswires(
    raw: dict[str, np.ndarray], load: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Token-id newswires and topic ids, as ``keras.datasets.reuters.load_data``."""
    (x_train, y_train), (x_test, y_test) = keras_semantics.reuters(raw, **load)
    return x_train, y_train, x_test, y_test


def random_baseline(test_topics: np.ndarray, seed: int) -> dict[str, float]:
    """Accuracy of a shuffled copy of the test labels (the book's random classifier)."""
    shuffled = np.random.default_rng(seed).permutation(test_topics)
    return {"random_baseline_accuracy": float(np.mean(shuffled == test_topics))}
