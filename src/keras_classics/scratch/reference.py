"""Victor Zhou's original CNN: loops over regions, one image at a time.

A faithful translation of the ``conv.py``, ``maxpool.py``, ``softmax.py`` and
``cnn.py`` of "CNNs, Part 1/2" (the benchmark's baseline; the pipeline does not use
it). The only changes: the weights are drawn from a ``numpy.random.Generator``
(``rng.standard_normal`` for ``np.random.randn``) so that ``ReferenceCNN(F, seed)``
starts from the same weights as ``ScratchCNN(F, seed)``; both have
``get_weights``/``set_weights``; the training loop is a ``fit`` method shuffling
with the same seeded permutations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from keras_classics.scratch.layers import WeightsMixin


class Conv3x3(WeightsMixin):
    """A convolution layer using 3x3 filters."""

    weight_names = ("filters",)

    def __init__(self, num_filters, rng):
        self.num_filters = num_filters
        self.filters = rng.standard_normal((num_filters, 3, 3)) / 9

    def iterate_regions(self, image):
        """Generate all possible 3x3 image regions using valid padding."""
        h, w = image.shape
        for i in range(h - 2):
            for j in range(w - 2):
                im_region = image[i : (i + 3), j : (j + 3)]
                yield im_region, i, j

    def forward(self, input):
        """(h, w) -> (h - 2, w - 2, num_filters)."""
        self.last_input = input
        h, w = input.shape
        output = np.zeros((h - 2, w - 2, self.num_filters))
        for im_region, i, j in self.iterate_regions(input):
            output[i, j] = np.sum(im_region * self.filters, axis=(1, 2))
        return output

    def backprop(self, d_L_d_out, learn_rate):
        """Update the filters; the first layer returns no input gradient."""
        d_L_d_filters = np.zeros(self.filters.shape)
        for im_region, i, j in self.iterate_regions(self.last_input):
            for f in range(self.num_filters):
                d_L_d_filters[f] += d_L_d_out[i, j, f] * im_region
        self.filters -= learn_rate * d_L_d_filters
        return None  # noqa: PLR1711 (as Zhou: no gradient below the first layer)


class MaxPool2(WeightsMixin):
    """A Max Pooling layer using a pool size of 2."""

    def iterate_regions(self, image):
        """Generate non-overlapping 2x2 image regions to pool over."""
        h, w, _ = image.shape
        new_h = h // 2
        new_w = w // 2
        for i in range(new_h):
            for j in range(new_w):
                im_region = image[(i * 2) : (i * 2 + 2), (j * 2) : (j * 2 + 2)]
                yield im_region, i, j

    def forward(self, input):
        """(h, w, num_filters) -> (h / 2, w / 2, num_filters)."""
        self.last_input = input
        h, w, num_filters = input.shape
        output = np.zeros((h // 2, w // 2, num_filters))
        for im_region, i, j in self.iterate_regions(input):
            output[i, j] = np.amax(im_region, axis=(0, 1))
        return output

    def backprop(self, d_L_d_out):
        """The gradient goes to every position equal to its window's maximum."""
        d_L_d_input = np.zeros(self.last_input.shape)
        for im_region, i, j in self.iterate_regions(self.last_input):
            h, w, f = im_region.shape
            amax = np.amax(im_region, axis=(0, 1))
            for i2 in range(h):
                for j2 in range(w):
                    for f2 in range(f):
                        if im_region[i2, j2, f2] == amax[f2]:
                            d_L_d_input[i * 2 + i2, j * 2 + j2, f2] = d_L_d_out[
                                i, j, f2
                            ]
        return d_L_d_input


class Softmax(WeightsMixin):
    """A standard fully-connected layer with softmax activation."""

    weight_names = ("weights", "biases")

    def __init__(self, input_len, nodes, rng):
        self.weights = rng.standard_normal((input_len, nodes)) / input_len
        self.biases = np.zeros(nodes)

    def forward(self, input):
        """Any shape -> (nodes,) probabilities."""
        self.last_input_shape = input.shape
        input = input.flatten()
        self.last_input = input
        totals = np.dot(input, self.weights) + self.biases
        self.last_totals = totals
        exp = np.exp(totals)
        return exp / np.sum(exp, axis=0)

    def backprop(self, d_L_d_out, learn_rate):
        """Only the one non-zero gradient (the label's, for cross-entropy) is used."""
        for i, gradient in enumerate(d_L_d_out):
            if gradient == 0:
                continue
            t_exp = np.exp(self.last_totals)
            S = np.sum(t_exp)
            # Gradients of out[i] against totals
            d_out_d_t = -t_exp[i] * t_exp / (S**2)
            d_out_d_t[i] = t_exp[i] * (S - t_exp[i]) / (S**2)
            # Gradients of totals against weights/biases/input
            d_t_d_w = self.last_input
            d_t_d_b = 1
            d_t_d_inputs = self.weights
            # Gradients of loss against totals
            d_L_d_t = gradient * d_out_d_t
            # Gradients of loss against weights/biases/input
            d_L_d_w = d_t_d_w[np.newaxis].T @ d_L_d_t[np.newaxis]
            d_L_d_b = d_L_d_t * d_t_d_b
            d_L_d_inputs = d_t_d_inputs @ d_L_d_t
            self.weights -= learn_rate * d_L_d_w
            self.biases -= learn_rate * d_L_d_b
            return d_L_d_inputs.reshape(self.last_input_shape)


class ReferenceCNN:
    """Zhou's ``cnn.py``: conv (28x28x1 -> 26x26xF), pool (-> 13x13xF), softmax (-> 10)."""

    def __init__(self, num_filters: int = 8, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.conv = Conv3x3(num_filters, rng)
        self.pool = MaxPool2()
        self.softmax = Softmax(13 * 13 * num_filters, 10, rng)
        self.layers = {"conv": self.conv, "softmax": self.softmax}

    def forward(self, image, label):
        """Probabilities, cross-entropy loss and accuracy (0 or 1) of one raw image."""
        out = self.conv.forward((image / 255) - 0.5)
        out = self.pool.forward(out)
        out = self.softmax.forward(out)
        loss = -np.log(out[label])
        acc = 1 if np.argmax(out) == label else 0
        return out, loss, acc

    def train(self, im, label, lr=0.005):
        """A training step on one image; returns its loss and accuracy."""
        out, loss, acc = self.forward(im, label)
        gradient = np.zeros(10)
        gradient[label] = -1 / out[label]
        gradient = self.softmax.backprop(gradient, lr)
        gradient = self.pool.backprop(gradient)
        gradient = self.conv.backprop(gradient, lr)
        return loss, acc

    def fit(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        epochs: int = 3,
        learn_rate: float = 0.005,
        seed: int = 0,
        on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    ) -> dict[str, list[float]]:
        """Zhou's loop: each epoch permutes the (already permuted) data, then trains
        image by image. Shuffles like ``ScratchCNN.fit`` with the same seed."""
        rng = np.random.default_rng(seed)
        history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        for epoch in range(epochs):
            permutation = rng.permutation(len(images))
            images = images[permutation]
            labels = labels[permutation]
            loss = 0
            num_correct = 0
            for im, label in zip(images, labels, strict=True):
                step_loss, acc = self.train(im, label, learn_rate)
                loss += step_loss
                num_correct += acc
            logs = {"loss": loss / len(images), "accuracy": num_correct / len(images)}
            for name, value in logs.items():
                history[name].append(float(value))
            if on_epoch_end is not None:
                on_epoch_end(epoch, logs)
        return history

    def loss_and_accuracy(self, images, labels) -> tuple[float, float]:
        """Zhou's test loop: mean loss and accuracy over the images."""
        loss = 0
        num_correct = 0
        for im, label in zip(images, labels, strict=True):
            _, step_loss, acc = self.forward(im, label)
            loss += step_loss
            num_correct += acc
        return float(loss / len(images)), num_correct / len(images)

    def get_weights(self) -> dict[str, np.ndarray]:
        """Named as ``ScratchCNN.get_weights()``: ``conv/filters``, ``softmax/...``."""
        return {
            f"{name}/{key}": value
            for name, layer in self.layers.items()
            for key, value in layer.get_weights().items()
        }

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        expected = set(self.get_weights())
        if set(weights) != expected:
            raise ValueError(
                f"expected weights {sorted(expected)}, got {sorted(weights)}"
            )
        for name, layer in self.layers.items():
            layer.set_weights(
                {key: weights[f"{name}/{key}"] for key in layer.weight_names}
            )
