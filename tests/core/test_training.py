import keras
import numpy as np
import pytest

from keras_classics.core import models, training
from keras_classics.core.errors import TrainingDivergedError
from tests.synthetic import TINY_REGRESSOR_SPEC

SPEC = TINY_REGRESSOR_SPEC


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=n)).astype(
        "float32"
    )
    return x, y


def _twin_models():
    config = models.to_config(models.build_model(SPEC, (4,), name="net"))
    first, second = (
        models.from_config(config, seed=1),
        models.from_config(config, seed=2),
    )
    second.set_weights(first.get_weights())
    return first, second


def test_matches_keras_fit_epoch_by_epoch():
    x, y = _data()
    x_val, y_val = _data(n=17, seed=1)
    ours, reference = _twin_models()

    history = training.fit(
        ours,
        x,
        y,
        epochs=5,
        batch_size=16,
        validation_data=(x_val, y_val),
        shuffle=False,
    )
    expected = reference.fit(
        x,
        y,
        epochs=5,
        batch_size=16,
        validation_data=(x_val, y_val),
        shuffle=False,
        verbose=0,
    ).history

    assert set(history) == set(expected) == {"loss", "mae", "val_loss", "val_mae"}
    for name in expected:
        np.testing.assert_allclose(history[name], expected[name], rtol=1e-4)
    for ours_w, ref_w in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours_w, ref_w, rtol=1e-4, atol=1e-6)


def test_training_state_is_built_for_a_batch_before_any_step():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert not model.optimizer.built
    x, y = np.ones((1, 3), "float32"), np.ones((1, 2), "float32")
    training.build_training_state(model, x, y)
    assert model.optimizer.built
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    assert model.metrics[1].built  # the compiled metrics' variables exist
    assert all(  # and count nothing yet
        not np.any(keras.ops.convert_to_numpy(v)) for v in model.metrics_variables
    )


def test_same_seed_same_history_and_shuffle_changes_it():
    x, y = _data()
    runs = []
    for shuffle_seed in (7, 7, 8):
        model, _ = _twin_models()
        runs.append(
            training.fit(model, x, y, epochs=3, batch_size=8, seed=shuffle_seed)["loss"]
        )
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_callbacks_see_every_epoch_and_can_stop_training():
    x, y = _data()
    model, _ = _twin_models()
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    history = training.fit(model, x, y, epochs=20, batch_size=8, callbacks=[stopper])
    assert len(history["loss"]) == 2  # stops once the huge min_delta is not met


def test_a_diverging_fit_stops_at_once_and_raises():
    x, y = _data()
    model = models.from_config(
        models.to_config(
            models.build_model(
                {
                    **SPEC,
                    "compile": {
                        **SPEC["compile"],
                        "optimizer": {"type": "sgd", "learning_rate": 1e6},
                    },
                },
                (4,),
                name="diverging",
            )
        ),
        seed=0,
    )
    with pytest.raises(TrainingDivergedError, match="learning_rate is 1e\\+06"):
        training.fit(model, x, y, epochs=10, batch_size=8)
    # Keras' TerminateOnNaN stopped it in the epoch the loss became NaN or inf.
    losses = model.history.history["loss"]
    assert len(losses) < 10
    assert not np.isfinite(losses[-1])
    assert np.isfinite(losses[:-1]).all()


@pytest.mark.parametrize(("epochs", "batch_size"), [(0, 8), (3, 0)])
def test_rejects_non_positive_epochs_or_batch_size(epochs, batch_size):
    x, y = _data()
    model, _ = _twin_models()
    with pytest.raises(ValueError, match="must be >= 1"):
        training.fit(model, x, y, epochs=epochs, batch_size=batch_size)


def test_a_reused_scratch_model_trains_exactly_like_a_fresh_one():
    x, y = _data()
    x_val, y_val = _data(n=17, seed=1)
    config = models.to_config(models.build_model(SPEC, (4,), name="reused"))

    def train(model):
        return training.fit(
            model, x, y, epochs=3, batch_size=8, validation_data=(x_val, y_val), seed=3
        )

    first = models.scratch_model(config, seed=5)
    train(first)  # leaves trained weights and optimizer state behind
    again = models.scratch_model(config, seed=5)
    assert again is first
    np.testing.assert_array_equal(
        [w.sum() for w in again.get_weights()],
        [w.sum() for w in models.from_config(config, seed=5).get_weights()],
    )
    assert train(again) == train(models.from_config(config, seed=5))


def test_a_convnet_matches_keras_fit_epoch_by_epoch():
    # On JAX's CPU, a convolutional model's epoch runs a compiled call per batch
    # (loop_jax.convolutions_on_cpu): the same results as fit's, with validation.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8, 8, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, size=40), 3)
    spec = {
        "layers": [
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 3, "activation": "softmax"},
        ],
        "compile": {
            "optimizer": "rmsprop",
            "loss": "categorical_crossentropy",
            "metrics": ["accuracy"],
        },
    }
    config = models.to_config(models.build_model(spec, (8, 8, 1), name="conv"))
    ours, reference = models.from_config(config, 1), models.from_config(config, 2)
    reference.set_weights(ours.get_weights())
    settings = {"epochs": 3, "batch_size": 16, "shuffle": False}
    history = training.fit(
        ours, x[:30], y[:30], validation_data=(x[30:], y[30:]), **settings
    )
    expected = reference.fit(
        x[:30], y[:30], validation_data=(x[30:], y[30:]), verbose=0, **settings
    ).history
    for name in expected:
        np.testing.assert_allclose(history[name], expected[name], rtol=1e-4)
    assert training.evaluate(ours, x, y, batch_size=16) == pytest.approx(
        reference.evaluate(x, y, batch_size=16, verbose=0, return_dict=True),
        rel=1e-4,
    )
