"""Nodes of the IMDB pipeline: ingest and IMDB-specific reports, no I/O."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from keras_classics.core.classifier import predicted_classes
from keras_classics.datasets import keras_semantics


def load_reviews(
    raw: dict[str, np.ndarray], load: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Token-id reviews and float32 0/1 labels, as ``keras.datasets.imdb.load_data``."""
    (x_train, y_train), (x_test, y_test) = keras_semantics.imdb(raw, **load)
    return x_train, y_train.astype("float32"), x_test, y_test.astype("float32")


def load_texts(
    raw: dict[str, np.ndarray], load: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stanford's review texts and float32 0/1 labels, each split shuffled with
    ``load.seed`` (the files come grouped by label)."""
    rng = np.random.RandomState(load["seed"])
    train = rng.permutation(len(raw["train_labels"]))
    test = rng.permutation(len(raw["test_labels"]))
    return (
        raw["train_texts"][train],
        raw["train_labels"][train].astype("float32"),
        raw["test_texts"][test],
        raw["test_labels"][test].astype("float32"),
    )


def decode_reviews(
    test_sequences: np.ndarray,
    y_test: np.ndarray,
    test_outputs: np.ndarray,
    word_index: dict[str, int],
    load: dict[str, Any],
    decode: dict[str, Any],
) -> pd.DataFrame:
    """The first test reviews back in words (as the book shows), with the model's
    probability of "positive" and the true label."""
    count = decode["reviews"]
    texts = [
        keras_semantics.decode(sequence, word_index, index_from=load["index_from"])
        for sequence in test_sequences[:count]
    ]
    return review_report(np.array(texts, dtype=object), y_test, test_outputs, decode)


def review_report(
    test_texts: np.ndarray,
    y_test: np.ndarray,
    test_outputs: np.ndarray,
    decode: dict[str, Any],
) -> pd.DataFrame:
    """The first test reviews with the model's probability of "positive" and the truth."""
    count = decode["reviews"]
    probabilities = test_outputs.reshape(-1)[:count]
    return pd.DataFrame(
        {
            "review": test_texts[:count],
            "positive_probability": probabilities,
            "predicted_label": predicted_classes(probabilities),
            "true_label": y_test[:count].astype(np.int64),
        }
    )
