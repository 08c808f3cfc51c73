"""What the project should compute, written out again from its sources - the book,
Keras' documented semantics, Zhou's article - and never by calling the project's code,
so that tests compare the project with an independent computation."""

from __future__ import annotations

import re
import string

import numpy as np


def smooth_curve(points: list[float], factor: float) -> list[float]:
    """The book's ``smooth_curve``: each point replaced by an exponential moving
    average of the points so far."""
    smoothed: list[float] = []
    for point in points:
        if smoothed:
            previous = smoothed[-1]
            smoothed.append(previous * factor + point * (1 - factor))
        else:
            smoothed.append(point)
    return smoothed


def best_epoch(curve: list[float], skip: int, factor: float) -> int:
    """The epoch, counted from 1, where the smoothed curve (first ``skip`` epochs
    dropped) is lowest: how the book reads the number of epochs off its figure."""
    smoothed = smooth_curve(curve[skip:], factor)
    return skip + smoothed.index(min(smoothed)) + 1


def keras_sequences(
    sequences, num_words: int, start_char=1, oov_char=2, index_from=3
) -> list[list[int]]:
    """Word ids as ``keras.datasets.imdb/reuters.load_data`` returns them: the start
    character first, every id shifted by ``index_from``, ids >= ``num_words`` made
    the out-of-vocabulary id."""
    return [
        [
            word if word < num_words else oov_char
            for word in [start_char, *(index + index_from for index in sequence)]
        ]
        for sequence in sequences
    ]


def multi_hot(sequences: list[list[int]], width: int) -> np.ndarray:
    """The book's ``vectorize_sequences``: 1.0 at each id a sequence holds."""
    vectors = np.zeros((len(sequences), width), dtype="float32")
    for row, sequence in enumerate(sequences):
        vectors[row, sequence] = 1.0
    return vectors


def reuters_split(x, y, test_split: float = 0.2, seed: int = 113) -> tuple:
    """``keras.datasets.reuters.load_data``'s shuffle and split of the raw arrays."""
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    cut = int(len(x) * (1 - test_split))
    x, y = x[order], y[order]
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def text_vectorization_tokens(text: str) -> list[str]:
    """``TextVectorization``'s default standardisation and split: lower case, ASCII
    punctuation removed, split on whitespace."""
    stripped = re.sub(f"[{re.escape(string.punctuation)}]", "", text.lower())
    return stripped.split()


def text_multi_hot(texts: list[str], vocabulary: list[str]) -> np.ndarray:
    """``TextVectorization(output_mode="multi_hot")`` with ``vocabulary``, whose first
    entry is the out-of-vocabulary token."""
    index = {word: position for position, word in enumerate(vocabulary)}
    vectors = np.zeros((len(texts), len(vocabulary)), dtype="float32")
    for row, text in enumerate(texts):
        for token in text_vectorization_tokens(text):
            vectors[row, index.get(token, 0)] = 1.0
    return vectors


def zhou_probabilities(weights: dict[str, np.ndarray], images: np.ndarray):
    """Zhou's CNN forward pass: ``image / 255 - 0.5``, valid 3x3 convolution (no
    kernel flip, no bias), 2x2 max pooling, flatten, dense layer and softmax."""
    x = np.asarray(images, dtype=np.float64) / 255 - 0.5
    filters = np.asarray(weights["conv/filters"])
    n, size = len(x), x.shape[1] - 2
    conv = np.zeros((n, size, size, len(filters)))
    for i in range(3):
        for j in range(3):
            conv += x[:, i : i + size, j : j + size, None] * filters[:, i, j]
    half = size // 2
    pooled = conv.reshape(n, half, 2, half, 2, len(filters)).max(axis=(2, 4))
    logits = pooled.reshape(n, -1) @ np.asarray(weights["softmax/weights"])
    logits += np.asarray(weights["softmax/biases"])
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)
