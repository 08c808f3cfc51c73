"""The three layers of Victor Zhou's CNN, vectorised over a mini-batch.

Each layer is one small class, as in Zhou's article:

* ``forward(x)`` computes the output and caches what backprop will need;
* ``backprop(d_out, learn_rate)`` receives dL/d(output), updates the layer's own
  weights by plain SGD (``w -= learn_rate * dL/dw``) and returns dL/d(input).

The weight gradients of the last backprop stay in ``layer.gradients`` (a dict like
``get_weights()``), and ``get_weights()``/``set_weights()`` read and set the weights.

Shapes: a batch holds N images of shape (H, W), one channel, scaled to [-0.5, 0.5];
feature maps are (N, H, W, F), channels last as in Keras. No Python loop runs over
pixels or regions: the 3x3 regions are gathered at once (their pixel numbers come
from ``sliding_window_view``), the 2x2 windows are a ``reshape``, and the sums over
regions are matrix products.

A layer computes the gradient of whatever scalar ``d_out`` comes from. The network
passes the gradient of the *mean* loss over the batch, so every weight gradient is
the mean of the per-image gradients, and a batch of one image is exactly Zhou's
per-image SGD step.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class WeightsMixin:
    """``get_weights``/``set_weights`` over the array attributes named in ``weight_names``."""

    weight_names: tuple[str, ...] = ()

    def get_weights(self) -> dict[str, np.ndarray]:
        """A copy of every weight array, by name."""
        return {name: getattr(self, name).copy() for name in self.weight_names}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Set every weight array (copied as float64); names and shapes must match."""
        if set(weights) != set(self.weight_names):
            raise ValueError(
                f"expected weights {sorted(self.weight_names)}, got {sorted(weights)}"
            )
        for name in self.weight_names:
            value = np.array(weights[name], dtype=np.float64)
            expected = getattr(self, name).shape
            if value.shape != expected:
                raise ValueError(
                    f"{name}: expected shape {expected}, got {value.shape}"
                )
            setattr(self, name, value)


@functools.cache
def _region_pixels(h: int, w: int) -> np.ndarray:
    """The flat pixel numbers (row * w + column) of every 3x3 region of an (h, w) image.

    Row ``i * (w - 2) + j`` lists region (i, j)'s 9 pixels, (a, b) in reading order:
    a sliding window over the grid of pixel numbers, (R, 9) with R = (h - 2) * (w - 2).
    """
    pixels = np.arange(h * w).reshape(h, w)
    index = sliding_window_view(pixels, (3, 3)).reshape(-1, 9)
    index.setflags(write=False)  # shared by every call
    return index


class Conv3x3(WeightsMixin):
    """A 3x3 convolution with ``num_filters`` filters, valid padding and no bias.

    (N, H, W) images -> (N, H - 2, W - 2, F) feature maps, with
    ``out[n, i, j, f] = sum over a, b of x[n, i + a, j + b] * filters[f, a, b]``.
    Like Zhou's loop and Keras' ``Conv2D`` it is a cross-correlation: the filters are
    not flipped. Keras keeps the same numbers as a kernel of shape (3, 3, 1, F):
    ``kernel[a, b, 0, f] == filters[f, a, b]``.
    """

    weight_names = ("filters",)

    def __init__(self, num_filters: int, rng: np.random.Generator) -> None:
        self.num_filters = num_filters
        # Zhou's initialisation: standard normal divided by 9, the filter's size.
        self.filters = rng.standard_normal((num_filters, 3, 3)) / 9  # (F, 3, 3)
        self.gradients: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, H, W) -> (N, H - 2, W - 2, F)."""
        n, h, w = x.shape
        # One row of 9 pixels per region, for every image: (N * (H - 2) * (W - 2), 9),
        # the same as sliding_window_view(x, (3, 3), axis=(1, 2)).reshape(-1, 9) but
        # gathered with precomputed pixel numbers, which is 3 to 4 times faster.
        regions = np.take(x.reshape(n, h * w), _region_pixels(h, w), axis=1)
        self.last_regions = regions.reshape(-1, 9)
        # out[r, f] = sum over k of regions[r, k] * filters[f, k], one matrix product:
        # the same as np.einsum("rk,fk->rf", regions, filters), (N * (H-2) * (W-2), F).
        out = self.last_regions @ self.filters.reshape(self.num_filters, 9).T
        return out.reshape(n, h - 2, w - 2, self.num_filters)

    def backprop(
        self, d_out: np.ndarray, learn_rate: float, *, input_gradient: bool = True
    ) -> np.ndarray | None:
        """dL/d(out) (N, H - 2, W - 2, F) -> dL/d(x) (N, H, W); updates the filters.

        ``dL/d(filters)[f, a, b]`` sums ``d_out[n, i, j, f] * x[n, i + a, j + b]`` over
        every image n and position (i, j). ``dL/d(x)`` is only needed below another
        layer: Zhou's conv is the first layer and returns None; the network passes
        ``input_gradient=False`` to skip it too.
        """
        d_out_rows = d_out.reshape(-1, self.num_filters)  # (N * (H - 2) * (W - 2), F)
        # (F, R) @ (R, 9) -> (F, 9): einsum("rf,rk->fk", d_out_rows, regions).
        d_filters = (d_out_rows.T @ self.last_regions).reshape(self.filters.shape)
        d_x = self._input_gradient(d_out) if input_gradient else None  # old filters
        self.filters -= learn_rate * d_filters
        self.gradients = {"filters": d_filters}
        return d_x

    def _input_gradient(self, d_out: np.ndarray) -> np.ndarray:
        """``dL/d(x)[n, y, x] = sum over f, a, b of d_out[n, y - a, x - b, f] * filters[f, a, b]``.

        A "full" cross-correlation of d_out with the flipped filters: pad d_out with two
        zeros on each side, (N, H + 2, W + 2, F), and take each 3x3 window of it.
        """
        padded = np.pad(d_out, ((0, 0), (2, 2), (2, 2), (0, 0)))
        windows = sliding_window_view(padded, (3, 3), axis=(1, 2))  # (N, H, W, F, 3, 3)
        return np.einsum("nyxfab,fab->nyx", windows, self.filters[:, ::-1, ::-1])


class MaxPool2(WeightsMixin):
    """2x2 max pooling with stride 2: (N, H, W, F) -> (N, H // 2, W // 2, F).

    Odd sizes: like Zhou's loop (``range(h // 2)``) and Keras' "valid" pooling, the
    last row (column) of an odd height (width) is dropped and gets a zero gradient.
    Zhou's 26 x 26 maps have no remainder: 26 -> 13.

    Ties: the gradient of a window goes to *every* position equal to the window's
    maximum, as in Zhou's loop (``if im_region[i2, w2, f2] == amax[f2]``), so a window
    of four equal values passes its gradient on four times. TensorFlow passes it to
    one position only. Both agree when each window's maximum is unique, as it almost
    surely is for continuous inputs; MNIST's blank background, though, gives windows
    of equal values, where the two differ.
    """

    def __init__(self) -> None:
        self.gradients: dict[str, np.ndarray] = {}  # no weights, no gradients

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, H, W, F) -> (N, H // 2, W // 2, F)."""
        n, h, w, f = x.shape
        self.last_input_shape = x.shape
        # Split each spatial axis into (blocks, 2): (N, H/2, 2, W/2, 2, F), a view
        # when H and W are even.
        blocks = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, f)
        # The largest of each window's four corners, (N, H/2, W/2, F): the same as
        # blocks.max(axis=(2, 4)), which NumPy computes 3 to 4 times slower.
        top = np.maximum(blocks[:, :, 0, :, 0], blocks[:, :, 0, :, 1])
        bottom = np.maximum(blocks[:, :, 1, :, 0], blocks[:, :, 1, :, 1])
        out = np.maximum(top, bottom)
        self.last_blocks, self.last_output = blocks, out
        return out

    def backprop(self, d_out: np.ndarray, learn_rate: float = 0.0) -> np.ndarray:
        """dL/d(out) (N, H/2, W/2, F) -> dL/d(x) (N, H, W, F). No weights to update."""
        # Broadcast each window's maximum and gradient back over its 2x2 positions.
        is_max = self.last_blocks == self.last_output[:, :, None, :, None, :]
        d_blocks = is_max * d_out[:, :, None, :, None, :]  # (N, H/2, 2, W/2, 2, F)
        n, h2, _, w2, _, f = d_blocks.shape
        d_x = d_blocks.reshape(n, 2 * h2, 2 * w2, f)
        if d_x.shape != self.last_input_shape:  # odd size: the dropped edge gets 0
            d_x = np.pad(
                d_x,
                (
                    (0, 0),
                    (0, self.last_input_shape[1] - 2 * h2),
                    (0, self.last_input_shape[2] - 2 * w2),
                    (0, 0),
                ),
            )
        return d_x


class Softmax(WeightsMixin):
    """Flatten, a dense layer and softmax: (N, ...) -> class probabilities (N, nodes).

    Flattening keeps each image's (h, w, filter) order, the order of Keras' ``Flatten``
    on channels-last maps, so ``weights`` is the kernel of Keras' ``Dense``.
    """

    weight_names = ("weights", "biases")

    def __init__(self, input_len: int, nodes: int, rng: np.random.Generator) -> None:
        # Zhou's initialisation: standard normal divided by the number of inputs.
        self.weights = rng.standard_normal((input_len, nodes)) / input_len
        self.biases = np.zeros(nodes)
        self.gradients: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, ...) -> (N, nodes), each row summing to 1."""
        self.last_input_shape = x.shape
        self.last_input = x.reshape(len(x), -1)  # (N, input_len)
        totals = self.last_input @ self.weights + self.biases  # (N, nodes): logits
        # exp(t - max t) / sum: the probabilities of exp(t) / sum, without overflow.
        exp = np.exp(totals - totals.max(axis=1, keepdims=True))
        self.last_output = exp / exp.sum(axis=1, keepdims=True)
        return self.last_output

    def backprop(self, d_out: np.ndarray, learn_rate: float) -> np.ndarray:
        """dL/d(probabilities) (N, nodes) -> dL/d(x); updates weights and biases.

        Through the softmax Jacobian ``dp_i/dt_j = p_i (delta_ij - p_j)``:
        ``dL/dt_j = p_j (dL/dp_j - sum over i of dL/dp_i p_i)``.
        """
        p = self.last_output
        d_totals = p * (d_out - (d_out * p).sum(axis=1, keepdims=True))
        return self.backprop_totals(d_totals, learn_rate)

    def backprop_totals(self, d_totals: np.ndarray, learn_rate: float) -> np.ndarray:
        """dL/d(totals) (N, nodes) -> dL/d(x): the dense layer's part of ``backprop``.

        The network starts here: for cross-entropy, dL/d(totals) is simply
        ``p - one_hot(label)``.
        """
        # (input_len, nodes), summed over N. (np.dot: for one image, an outer product,
        # it is twice as fast as the @ operator.)
        d_weights = np.dot(self.last_input.T, d_totals)
        d_biases = d_totals.sum(axis=0)  # (nodes,)
        d_x = (d_totals @ self.weights.T).reshape(self.last_input_shape)  # old weights
        self.weights -= learn_rate * d_weights
        self.biases -= learn_rate * d_biases
        self.gradients = {"weights": d_weights, "biases": d_biases}
        return d_x
