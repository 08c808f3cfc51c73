"""The NumPy CNN: Keras autodiff, Zhou's loop implementation, learning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_classics.scratch.network import ScratchCNN, scale
from keras_classics.scratch.reference import ReferenceCNN
from tests.synthetic import digit_like_images

WEIGHT_NAMES = {"conv/filters", "softmax/weights", "softmax/biases"}


def mnist_like(n, seed):
    """Digit-like images with a blank border: many 2x2 pooling windows are ties."""
    images, labels = digit_like_images(n, seed)
    images[:, :6] = 0
    images[:, :, 22:] = 0
    return images, labels


def keras_twin(net):
    """Conv2D -> MaxPooling2D -> Flatten -> Dense(softmax), in float64, same weights."""
    weights = net.get_weights()
    filters = weights["conv/filters"]
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1), dtype="float64"),
            keras.layers.Conv2D(
                len(filters), 3, use_bias=False, padding="valid", dtype="float64"
            ),
            keras.layers.MaxPooling2D(2, dtype="float64"),
            keras.layers.Flatten(dtype="float64"),
            keras.layers.Dense(10, activation="softmax", dtype="float64"),
        ]
    )
    model.set_weights(
        [
            filters.transpose(1, 2, 0)[:, :, None, :],  # (F, 3, 3) -> (3, 3, 1, F)
            weights["softmax/weights"],
            weights["softmax/biases"],
        ]
    )
    return model


def assert_same_weights(ours, theirs, rtol=1e-10, atol=1e-13):
    assert set(ours) == set(theirs) == WEIGHT_NAMES
    for name in WEIGHT_NAMES:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=rtol, atol=atol)


def test_batch_gradients_match_tensorflow():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (4, 28, 28))  # continuous: no pooling ties
    labels = np.array([3, 0, 9, 3])
    net = ScratchCNN(seed=1)
    model = keras_twin(net)
    x = tf.constant(scale(images)[..., None])

    with tf.GradientTape() as tape:
        probabilities = model(x)
        loss = keras.losses.SparseCategoricalCrossentropy(dtype="float64")(
            labels, probabilities
        )
    kernel, dense_kernel, dense_bias = tape.gradient(loss, model.trainable_variables)
    one_hot_loss = keras.losses.CategoricalCrossentropy(dtype="float64")(
        np.eye(10)[labels], probabilities
    )

    np.testing.assert_allclose(net.forward(images), probabilities, rtol=1e-10)
    our_loss, _ = net.train_batch(images, labels, learn_rate=0.0)
    np.testing.assert_allclose(our_loss, float(loss), rtol=1e-10)
    np.testing.assert_allclose(our_loss, float(one_hot_loss), rtol=1e-10)
    theirs = {
        "conv/filters": kernel.numpy()[:, :, 0, :].transpose(2, 0, 1),
        "softmax/weights": dense_kernel.numpy(),
        "softmax/biases": dense_bias.numpy(),
    }
    assert_same_weights(net.gradients(), theirs, rtol=1e-9, atol=1e-14)


def test_batch_gradient_is_the_mean_of_per_image_gradients():
    images, labels = mnist_like(3, seed=2)
    net = ScratchCNN(seed=2)
    net.train_batch(images, labels, learn_rate=0.0)
    batch = net.gradients()
    singles = []
    for image, label in zip(images, labels, strict=True):
        net.train_batch(image[None], label[None], learn_rate=0.0)
        singles.append(net.gradients())
    mean = {name: np.mean([g[name] for g in singles], axis=0) for name in batch}
    assert_same_weights(batch, mean, rtol=1e-12, atol=1e-16)


def test_train_batch_is_an_sgd_step():
    images, labels = mnist_like(5, seed=3)
    net = ScratchCNN(seed=3)
    before = net.get_weights()
    net.train_batch(images, labels, learn_rate=0.1)
    step = {name: before[name] - 0.1 * g for name, g in net.gradients().items()}
    assert_same_weights(net.get_weights(), step, rtol=1e-14, atol=1e-16)


def test_batch_size_one_equals_zhous_loops_step_for_step():
    images, labels = mnist_like(5, seed=4)
    ours, zhou = ScratchCNN(seed=4), ReferenceCNN(seed=4)
    assert_same_weights(ours.get_weights(), zhou.get_weights(), rtol=0, atol=0)
    for image, label in zip(images, labels, strict=True):
        loss, accuracy = ours.train_batch(image[None], label[None], 0.005)
        zhou_loss, zhou_accuracy = zhou.train(image, label, 0.005)
        np.testing.assert_allclose(loss, zhou_loss, rtol=1e-12)
        assert accuracy == zhou_accuracy
        assert_same_weights(ours.get_weights(), zhou.get_weights())


def test_fit_with_batch_size_one_equals_zhous_training_loop():
    images, labels = mnist_like(6, seed=5)
    ours, zhou = ScratchCNN(seed=5), ReferenceCNN(seed=5)
    logged = []

    history = ours.fit(
        images,
        labels,
        epochs=2,
        batch_size=1,
        learn_rate=0.01,
        seed=7,
        on_epoch_end=lambda epoch, logs: logged.append((epoch, logs)),
    )
    zhou_logged = []
    zhou_history = zhou.fit(
        images,
        labels,
        epochs=2,
        learn_rate=0.01,
        seed=7,
        on_epoch_end=lambda epoch, logs: zhou_logged.append((epoch, logs)),
    )

    assert_same_weights(ours.get_weights(), zhou.get_weights())
    for name in ("loss", "accuracy"):
        np.testing.assert_allclose(history[name], zhou_history[name], rtol=1e-12)
    assert [epoch for epoch, _ in logged] == [epoch for epoch, _ in zhou_logged]
    assert [epoch for epoch, _ in logged] == [0, 1]
    assert logged[1][1] == {
        "loss": history["loss"][1],
        "accuracy": history["accuracy"][1],
    }
    np.testing.assert_allclose(
        ours.loss_and_accuracy(images, labels),
        zhou.loss_and_accuracy(images, labels),
        rtol=1e-12,
    )


def test_learns_synthetic_digits():
    images, labels = digit_like_images(300, seed=0)
    test_images, test_labels = digit_like_images(200, seed=1)
    net = ScratchCNN(seed=0)
    _, chance = net.loss_and_accuracy(test_images, test_labels)

    history = net.fit(images, labels, epochs=2, batch_size=4, learn_rate=0.02)
    loss, accuracy = net.loss_and_accuracy(test_images, test_labels)

    assert history["loss"][1] < history["loss"][0]
    assert chance < 0.3
    assert accuracy > 0.8
    assert loss < 1.0
    predictions = net.predict(test_images, batch_size=64)
    assert predictions.shape == (200,)
    assert net.predict_proba(test_images[:0]).shape == (0, 10)
    assert np.mean(predictions == test_labels) == accuracy


def test_weights_round_trip_and_are_checked():
    net, other = ScratchCNN(num_filters=4, seed=0), ScratchCNN(num_filters=4, seed=1)
    other.set_weights(net.get_weights())
    assert_same_weights(other.get_weights(), net.get_weights(), rtol=0, atol=0)
    images = digit_like_images(3, seed=0)[0]
    np.testing.assert_array_equal(other.forward(images), net.forward(images))
    assert net.forward(images).shape == (3, 10)
    with pytest.raises(ValueError, match="expected weights"):
        net.set_weights({"conv/filters": np.zeros((4, 3, 3))})
    weights = net.get_weights()
    weights["softmax/biases"] = np.zeros(9)
    with pytest.raises(ValueError, match="shape"):
        net.set_weights(weights)
    zhou = ReferenceCNN(num_filters=4, seed=2)
    zhou.set_weights(net.get_weights())
    probabilities, _, _ = zhou.forward(images[0], 0)
    np.testing.assert_allclose(probabilities, net.forward(images)[0], rtol=1e-12)
    with pytest.raises(ValueError, match="expected weights"):
        zhou.set_weights({})
