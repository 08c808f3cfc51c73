"""The NumPy layers: finite-difference gradient checks and equivalence with Keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_classics.scratch import reference
from keras_classics.scratch.layers import Conv3x3, MaxPool2, Softmax

TOLERANCE = {"rtol": 1e-7, "atol": 1e-9}


def numeric_gradient(loss, array, eps=1e-6):
    """Central differences of ``loss()`` w.r.t. every element of ``array``, in place."""
    gradient = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        plus = loss()
        array[index] = saved - eps
        minus = loss()
        array[index] = saved
        gradient[index] = (plus - minus) / (2 * eps)
    return gradient


def analytic(layer, x, upstream):
    """dL/dx and the weight gradients of ``L = sum(layer(x) * upstream)``."""
    before = layer.get_weights()
    layer.forward(x)
    d_x = layer.backprop(upstream, 0.0)
    for name, value in layer.get_weights().items():  # learn_rate 0: no change
        np.testing.assert_array_equal(value, before[name])
    return d_x, layer.gradients


def keras_gradients(layers, x, upstream, variables=()):
    """Output, dL/dx and dL/d(variables) of ``L = sum(model(x) * upstream)`` in TF."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = x
        for layer in layers:
            out = layer(out)
        loss = tf.reduce_sum(out * upstream)
    d_x, *d_variables = tape.gradient(loss, [x, *variables])
    return out.numpy(), d_x.numpy(), [d.numpy() for d in d_variables]


def keras_kernel(filters):
    """Zhou's filters (F, 3, 3) as a Conv2D kernel (3, 3, 1, F)."""
    return filters.transpose(1, 2, 0)[:, :, None, :]


# Gradient checks: L = sum(out * upstream) for a random upstream gradient.


def test_conv_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    conv = Conv3x3(4, rng)
    x = rng.standard_normal((2, 8, 8))
    upstream = rng.standard_normal((2, 6, 6, 4))

    d_x, gradients = analytic(conv, x, upstream)

    def loss():
        return np.sum(conv.forward(x) * upstream)

    np.testing.assert_allclose(d_x, numeric_gradient(loss, x), **TOLERANCE)
    np.testing.assert_allclose(
        gradients["filters"], numeric_gradient(loss, conv.filters), **TOLERANCE
    )


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (2, 7, 9, 2)])
def test_pool_gradients_match_finite_differences(shape):
    rng = np.random.default_rng(1)
    pool = MaxPool2()
    x = rng.standard_normal(shape)  # continuous: no ties
    n, h, w, f = shape
    upstream = rng.standard_normal((n, h // 2, w // 2, f))

    d_x, gradients = analytic(pool, x, upstream)

    def loss():
        return np.sum(pool.forward(x) * upstream)

    assert d_x.shape == shape
    assert gradients == {}
    np.testing.assert_allclose(d_x, numeric_gradient(loss, x), **TOLERANCE)


def test_pool_drops_the_odd_edge():
    pool = MaxPool2()
    x = np.arange(2 * 5 * 3 * 1, dtype=float).reshape(2, 5, 3, 1)
    out = pool.forward(x)
    np.testing.assert_array_equal(out[..., 0], x[:, 1:4:2, 1:2, 0])
    d_x = pool.backprop(np.ones_like(out))
    assert d_x.shape == x.shape
    assert not d_x[:, 4].any() and not d_x[:, :, 2].any()


def test_pool_ties_send_the_gradient_to_every_maximum_as_zhou():
    x = np.zeros((1, 4, 4, 2))
    x[0, 0, 0, 0] = x[0, 1, 1, 0] = 1.0  # two maxima in a window of filter 0
    x[0, 2:, 2:, 1] = 3.0  # four equal values in a window of filter 1
    upstream = np.arange(1.0, 9.0).reshape(1, 2, 2, 2)
    pool = MaxPool2()
    pool.forward(x)
    d_x = pool.backprop(upstream)

    zhou = reference.MaxPool2()
    zhou.forward(x[0])
    np.testing.assert_array_equal(d_x[0], zhou.backprop(upstream[0]))
    assert d_x[0, 0, 0, 0] == d_x[0, 1, 1, 0] == upstream[0, 0, 0, 0]
    np.testing.assert_array_equal(d_x[0, 2:, 2:, 1], upstream[0, 1, 1, 1])


def test_softmax_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    softmax = Softmax(18, 4, rng)
    softmax.set_weights(
        {"weights": rng.standard_normal((18, 4)), "biases": rng.standard_normal(4)}
    )
    x = rng.standard_normal((2, 3, 3, 2))
    upstream = rng.standard_normal((2, 4))

    d_x, gradients = analytic(softmax, x, upstream)

    def loss():
        return np.sum(softmax.forward(x) * upstream)

    assert d_x.shape == x.shape
    np.testing.assert_allclose(d_x, numeric_gradient(loss, x), **TOLERANCE)
    for name in ("weights", "biases"):
        expected = numeric_gradient(loss, getattr(softmax, name))
        np.testing.assert_allclose(gradients[name], expected, **TOLERANCE)


def test_softmax_backprop_of_cross_entropy_is_p_minus_one_hot():
    rng = np.random.default_rng(3)
    softmax = Softmax(6, 3, rng)
    x = rng.standard_normal((4, 6))
    labels = np.array([0, 2, 1, 2])
    one_hot = np.eye(3)[labels]

    p = softmax.forward(x)
    via_probabilities = softmax.backprop(-one_hot / p, 0.0)  # d(-log p[label])/dp
    gradients = softmax.gradients
    via_totals = softmax.backprop_totals(p - one_hot, 0.0)

    np.testing.assert_allclose(via_probabilities, via_totals, rtol=1e-12)
    for name, value in softmax.gradients.items():
        np.testing.assert_allclose(gradients[name], value, rtol=1e-12)


def test_backprop_applies_sgd_to_the_weights():
    rng = np.random.default_rng(4)
    conv, softmax = Conv3x3(3, rng), Softmax(12, 5, rng)
    for layer, x, upstream in (
        (conv, rng.standard_normal((2, 5, 5)), rng.standard_normal((2, 3, 3, 3))),
        (softmax, rng.standard_normal((2, 12)), rng.standard_normal((2, 5))),
    ):
        before = layer.get_weights()
        layer.forward(x)
        layer.backprop(upstream, 0.1)
        for name, value in layer.get_weights().items():
            expected = before[name] - 0.1 * layer.gradients[name]
            np.testing.assert_allclose(value, expected, rtol=1e-14, atol=1e-15)


def test_weights_are_copied_and_checked():
    conv = Conv3x3(2, np.random.default_rng(0))
    weights = conv.get_weights()
    weights["filters"][:] = 0
    assert conv.filters.any()
    conv.set_weights(weights)
    weights["filters"][:] = 1
    assert not conv.filters.any()
    with pytest.raises(ValueError, match="shape"):
        conv.set_weights({"filters": np.zeros((3, 3, 3))})
    with pytest.raises(ValueError, match="expected weights"):
        conv.set_weights({"kernel": np.zeros((2, 3, 3))})


# Equivalence with Keras/TensorFlow autodiff on identical weights, in float64.


def test_conv_matches_keras_conv2d():
    rng = np.random.default_rng(5)
    conv = Conv3x3(8, rng)
    x = rng.standard_normal((3, 10, 12))
    upstream = rng.standard_normal((3, 8, 10, 8))
    layer = keras.layers.Conv2D(8, 3, use_bias=False, padding="valid", dtype="float64")
    layer.build((None, 10, 12, 1))
    layer.set_weights([keras_kernel(conv.filters)])

    out, d_x, (d_kernel,) = keras_gradients(
        [layer], x[..., None], upstream, [layer.kernel]
    )

    np.testing.assert_allclose(conv.forward(x), out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        conv.backprop(upstream, 0.0), d_x[..., 0], rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        keras_kernel(conv.gradients["filters"]), d_kernel, rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("shape", [(3, 26, 26, 8), (2, 7, 9, 2)])
def test_pool_matches_keras_max_pooling(shape):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)  # no ties, where TF and Zhou differ
    n, h, w, f = shape
    upstream = rng.standard_normal((n, h // 2, w // 2, f))
    pool = MaxPool2()

    out, d_x, _ = keras_gradients(
        [keras.layers.MaxPooling2D(2, dtype="float64")], x, upstream
    )

    np.testing.assert_array_equal(pool.forward(x), out)
    np.testing.assert_array_equal(pool.backprop(upstream), d_x)


def test_softmax_matches_keras_flatten_dense_softmax():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 3, 4, 2))  # (h, w, filter): checks Flatten's order
    upstream = rng.standard_normal((3, 10))
    softmax = Softmax(24, 10, rng)
    softmax.set_weights(
        {"weights": rng.standard_normal((24, 10)), "biases": rng.standard_normal(10)}
    )
    flatten = keras.layers.Flatten(dtype="float64")
    dense = keras.layers.Dense(10, activation="softmax", dtype="float64")
    dense.build((None, 24))
    dense.set_weights([softmax.weights, softmax.biases])

    out, d_x, (d_kernel, d_bias) = keras_gradients(
        [flatten, dense], x, upstream, [dense.kernel, dense.bias]
    )

    np.testing.assert_allclose(softmax.forward(x), out, rtol=1e-12)
    np.testing.assert_allclose(
        softmax.backprop(upstream, 0.0), d_x, rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(
        softmax.gradients["weights"], d_kernel, rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(softmax.gradients["biases"], d_bias, rtol=1e-10)
