"""Zhou's CNN as one object: Conv3x3 -> MaxPool2 -> Softmax, cross-entropy, SGD.

Images go in raw, 0 to 255, shape (N, 28, 28), and are scaled to [-0.5, 0.5] as in
Zhou's ``image / 255 - 0.5``. Training takes mini-batches; the gradient of a batch is
the mean of its per-image gradients, so ``batch_size=1`` is Zhou's per-image SGD.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from keras_classics.core.errors import TrainingDivergedError
from keras_classics.scratch.layers import Conv3x3, MaxPool2, Softmax

IMAGE_SIZE = 28
CLASSES = 10


def scale(images: np.ndarray) -> np.ndarray:
    """Raw pixels 0..255 -> float64 in [-0.5, 0.5], as Zhou's ``image / 255 - 0.5``."""
    return np.asarray(images) / 255 - 0.5


class ScratchCNN:
    """Conv3x3(num_filters) -> MaxPool2 -> Softmax(13 * 13 * num_filters -> 10).

    ``seed`` draws the initial weights (filters first, then the dense weights), the
    same draws as ``reference.ReferenceCNN(num_filters, seed)``.
    """

    def __init__(self, num_filters: int = 8, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        pooled = (IMAGE_SIZE - 2) // 2  # 28 -> conv 26 -> pool 13
        self.conv = Conv3x3(num_filters, rng)  # (N, 28, 28) -> (N, 26, 26, F)
        self.pool = MaxPool2()  # -> (N, 13, 13, F)
        self.softmax = Softmax(pooled * pooled * num_filters, CLASSES, rng)  # (N, 10)
        self.layers = {"conv": self.conv, "pool": self.pool, "softmax": self.softmax}

    def forward(self, images: np.ndarray) -> np.ndarray:
        """Raw images (N, 28, 28) -> class probabilities (N, 10); caches for backprop."""
        out = self.conv.forward(scale(images))
        out = self.pool.forward(out)
        return self.softmax.forward(out)

    def train_batch(
        self, images: np.ndarray, labels: np.ndarray, learn_rate: float = 0.005
    ) -> tuple[float, float]:
        """One SGD step on a batch; returns its loss and accuracy before the step.

        The loss is the mean cross-entropy ``-log p[label]``. Through the softmax its
        gradient w.r.t. the logits is ``(p - one_hot(label)) / N``, from which each
        layer's backprop takes the chain rule further and updates its weights.
        """
        labels = np.asarray(labels)
        n = len(labels)
        rows = np.arange(n)
        probs = self.forward(images)  # (N, 10)
        loss = -np.log(probs[rows, labels]).mean()
        accuracy = np.count_nonzero(probs.argmax(axis=1) == labels) / n
        d_totals = probs.copy()  # dL/d(logits) of the mean loss, (N, 10)
        d_totals[rows, labels] -= 1
        d_totals /= n
        d_out = self.softmax.backprop_totals(d_totals, learn_rate)  # (N, 13, 13, F)
        d_out = self.pool.backprop(d_out)  # (N, 26, 26, F)
        self.conv.backprop(d_out, learn_rate, input_gradient=False)
        return float(loss), float(accuracy)

    def predict_proba(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities (N, 10), computed ``batch_size`` images at a time."""
        images = np.asarray(images)
        batches = [
            self.forward(images[start : start + batch_size])
            for start in range(0, len(images), batch_size)
        ]
        return np.concatenate(batches) if batches else np.empty((0, CLASSES))

    def predict(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """The most probable class of each image, (N,)."""
        return self.predict_proba(images, batch_size).argmax(axis=1)

    def loss_and_accuracy(
        self, images: np.ndarray, labels: np.ndarray, batch_size: int = 256
    ) -> tuple[float, float]:
        """Mean cross-entropy and accuracy over a data set, without training."""
        labels = np.asarray(labels)
        probs = self.predict_proba(images, batch_size)
        loss = -np.log(probs[np.arange(len(labels)), labels]).mean()
        return float(loss), float(np.mean(probs.argmax(axis=1) == labels))

    def fit(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        epochs: int = 3,
        batch_size: int = 1,
        learn_rate: float = 0.005,
        seed: int = 0,
        on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    ) -> dict[str, list[float]]:
        """Mini-batch SGD; returns the mean training loss and accuracy of each epoch.

        Each epoch shuffles the data the way Zhou's loop does (it permutes the already
        permuted arrays: ``order = order[permutation]``), drawing the permutations
        from ``numpy.random.default_rng(seed)``; the last batch may be smaller.
        ``on_epoch_end(epoch, logs)`` is called after each epoch with that epoch's
        ``{"loss", "accuracy"}``. A NaN or infinite loss stops training at once with
        ``TrainingDivergedError``.
        """
        images, labels = np.asarray(images), np.asarray(labels)
        rng = np.random.default_rng(seed)
        n = len(images)
        order = np.arange(n)
        history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        for epoch in range(epochs):
            order = order[rng.permutation(n)]
            loss_sum = correct = 0.0
            for start in range(0, n, batch_size):
                batch = order[start : start + batch_size]
                loss, accuracy = self.train_batch(
                    images[batch], labels[batch], learn_rate
                )
                if not np.isfinite(loss):
                    raise TrainingDivergedError(
                        loss, epoch + 1, epochs, learn_rate, "training.learn_rate"
                    )
                loss_sum += loss * len(batch)
                correct += accuracy * len(batch)
            logs = {"loss": loss_sum / n, "accuracy": correct / n}
            for name, value in logs.items():
                history[name].append(value)
            if on_epoch_end is not None:
                on_epoch_end(epoch, logs)
        return history

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of the weights, named ``layer/weight``: ``conv/filters`` (F, 3, 3),
        ``softmax/weights`` (13 * 13 * F, 10), ``softmax/biases`` (10,)."""
        return _prefixed(
            {name: layer.get_weights() for name, layer in self.layers.items()}
        )

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Set every weight from a dict like ``get_weights()``'s."""
        expected = set(self.get_weights())
        if set(weights) != expected:
            raise ValueError(
                f"expected weights {sorted(expected)}, got {sorted(weights)}"
            )
        for name, layer in self.layers.items():
            layer.set_weights(
                {key: weights[f"{name}/{key}"] for key in layer.weight_names}
            )

    def gradients(self) -> dict[str, np.ndarray]:
        """The weight gradients of the last ``train_batch``, named as ``get_weights()``."""
        return _prefixed({name: layer.gradients for name, layer in self.layers.items()})


def _prefixed(by_layer: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {
        f"{layer}/{key}": value
        for layer, arrays in by_layer.items()
        for key, value in arrays.items()
    }
