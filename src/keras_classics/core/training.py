"""Training for in-memory data: Keras semantics, one graph call per epoch.

``keras.Model.fit`` pays a fixed cost every epoch (a fresh data iterator, a separate
``evaluate`` call for validation, Python callbacks around every batch). On the book's
small datasets that cost, not arithmetic, is most of the time: one Boston Housing fold
(100 epochs of 19 batches) takes ~8-17 s in ``fit`` and well under 1 s here. ``fit``
below keeps what users expect of Keras training - the model's own compiled
``train_step``/``test_step`` (same loss, metrics and optimizer semantics), per-epoch
logs, a ``History``, Keras callbacks (progress bar, ``EarlyStopping``,
``TerminateOnNaN``...) - but runs each epoch's shuffle, every batch and the
validation pass inside a single ``tf.function`` call. ``benchmarks/boston_kfold.py``
measures the difference.

Inputs are arrays, or ``MultiHotRows`` (token ids fed as sparse multi-hot batches).
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from keras_classics import compat
from keras_classics.core.errors import TrainingDivergedError
from keras_classics.core.vectorize import MultiHotRows, multi_hot

logger = logging.getLogger(__name__)

Inputs = np.ndarray | MultiHotRows

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fit(
    model: keras.Model,
    x: Inputs,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    validation_data: tuple[Inputs, np.ndarray] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Train ``model`` like ``model.fit`` and return its history (``History.history``).

    ``x``/``y`` are whole in-memory datasets; batches are drawn in-graph, reshuffled
    each epoch from ``seed`` (drawn from NumPy's global state when None, so
    ``keras.utils.set_random_seed`` makes runs repeatable). Validation metrics carry
    Keras' ``val_`` prefix. A NaN or infinite loss stops training at the end of its
    epoch (Keras' ``TerminateOnNaN``) and raises ``TrainingDivergedError``.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(
            f"epochs ({epochs}) and batch_size ({batch_size}) must be >= 1."
        )
    width = _width(x)
    x, y = _tensor(x), tf.convert_to_tensor(y)
    if validation_data is None:
        x_val, y_val = x[:0], y[:0]
    else:
        x_val, y_val = (
            _tensor(validation_data[0]),
            tf.convert_to_tensor(validation_data[1]),
        )
    steps = math.ceil(int(y.shape[0]) / batch_size)
    compat.build_training_state(model, _batch(x[:1], width), y[:1])
    if seed is None:
        seed = int(np.random.randint(2**31 - 1))
    run_epoch = _cached(
        model,
        ("epoch", batch_size, shuffle, validation_data is not None, width),
        lambda: _trace_epoch(
            model, batch_size, shuffle, validation_data is not None, width
        ),
    )
    data = (x, y, x_val, y_val, tf.constant(seed, tf.int64))

    callback_list = keras.callbacks.CallbackList(
        [*callbacks, keras.callbacks.TerminateOnNaN()],
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        train_logs, val_logs = run_epoch(*data, tf.constant(epoch, tf.int64))
        logs = {name: float(value) for name, value in train_logs.items()}
        # One batch-end per epoch: progress bars advance and TerminateOnNaN checks the loss.
        callback_list.on_train_batch_end(steps - 1, logs)
        logs |= {f"val_{name}": float(value) for name, value in val_logs.items()}
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    if not math.isfinite(logs.get("loss", 0.0)):
        raise TrainingDivergedError(
            logs["loss"],
            epoch + 1,
            epochs,
            float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
            "model.compile.optimizer.learning_rate",
        )
    return model.history.history


class ProgressLog(keras.callbacks.Callback):
    """Training progress in the log, for ``verbose: 0``: a line with the epoch's
    metrics at most every ``seconds``, and at the last epoch."""

    def __init__(self, label: str, epochs: int, seconds: float = 5.0) -> None:
        super().__init__()
        self._label, self._epochs, self._seconds = label, epochs, seconds
        self._last = 0.0

    def on_train_begin(self, logs=None) -> None:
        self._last = time.monotonic()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        now = time.monotonic()
        if epoch + 1 < self._epochs and now - self._last < self._seconds:
            return
        self._last = now
        figures = ", ".join(
            f"{name} {value:.4f}" for name, value in (logs or {}).items()
        )
        logger.info(
            "%s: epoch %d/%d, %s", self._label, epoch + 1, self._epochs, figures
        )


def timed_fit(
    model: keras.Model, x: Inputs, y: np.ndarray, progress: str = "", **kwargs
) -> dict:
    """``fit``, returning ``{"history": ..., "seconds": wall time of training}``; with
    ``verbose: 0``, its ``progress`` (a label, e.g. "Fold 1/4") in the log."""
    if progress and not kwargs.get("verbose"):
        kwargs["callbacks"] = [
            *kwargs.get("callbacks", ()),
            ProgressLog(progress, kwargs["epochs"]),
        ]
    started = time.perf_counter()
    history = fit(model, x, y, **kwargs)
    return {"history": history, "seconds": time.perf_counter() - started}


def evaluate(
    model: keras.Model, x: Inputs, y: np.ndarray, *, batch_size: int
) -> dict[str, float]:
    """The compiled loss and metrics over the whole dataset, like ``model.evaluate``."""
    width = _width(x)
    x, y = _tensor(x), tf.convert_to_tensor(y)
    compat.build_training_state(model, _batch(x[:1], width), y[:1])
    run = _cached(
        model,
        ("evaluate", batch_size, width),
        lambda: _trace_evaluate(model, batch_size, width),
    )
    return {name: float(value) for name, value in run(x, y).items()}


def predict(model: keras.Model, x: Inputs, *, batch_size: int) -> np.ndarray:
    """The model's outputs for every row of ``x``, batch by batch."""
    width = _width(x)
    x = _tensor(x)
    run = _cached(
        model,
        ("predict", width),
        lambda: tf.function(
            lambda rows: model(_batch(rows, width), training=False),
            reduce_retracing=True,
        ),
    )
    rows = int(x.shape[0]) if not isinstance(x, tf.RaggedTensor) else int(x.nrows())
    return np.concatenate(
        [
            run(x[start : start + batch_size]).numpy()
            for start in range(0, rows, batch_size)
        ]
    )


def _width(x: Inputs) -> int | None:
    return x.width if isinstance(x, MultiHotRows) else None


def _tensor(x: Inputs):
    return x.as_ragged() if isinstance(x, MultiHotRows) else tf.convert_to_tensor(x)


def _batch(rows, width: int | None):
    """What the model is fed: the rows, or their multi-hot vectors."""
    return rows if width is None else multi_hot(rows, width)


def _cached(model: keras.Model, key: tuple, make):
    """The model's traced function for ``key``: traced once, reused across calls.

    Data, seed and epoch are arguments, not captured constants, so that every fold of
    a k-fold run (same model, same shapes) reuses one trace; see
    ``models.scratch_model``.
    """
    functions = _FUNCTIONS.setdefault(model, {})
    if key not in functions:
        functions[key] = make()
    return functions[key]


def _reset_metrics(model: keras.Model) -> None:
    for metric in model.metrics:
        metric.reset_state()


def _evaluation_loop(model: keras.Model, x, y, batch_size: int, width: int | None):
    """In-graph: ``test_step`` over consecutive batches; returns the metric results."""
    _reset_metrics(model)
    samples = tf.shape(y, out_type=tf.int64)[0]
    for step in tf.range((samples + batch_size - 1) // batch_size):
        rows = tf.range(step * batch_size, tf.minimum((step + 1) * batch_size, samples))
        model.test_step((_batch(tf.gather(x, rows), width), tf.gather(y, rows)))
    return model.get_metrics_result()


def _trace_evaluate(model: keras.Model, batch_size: int, width: int | None):
    @tf.function(reduce_retracing=True)
    def run(x, y):
        return _evaluation_loop(model, x, y, batch_size, width)

    return run


def _trace_epoch(
    model: keras.Model,
    batch_size: int,
    shuffle: bool,
    validate: bool,
    width: int | None,
):
    @tf.function(reduce_retracing=True)
    def run_epoch(x, y, x_val, y_val, seed, epoch):
        samples = tf.shape(y, out_type=tf.int64)[0]
        order = tf.range(samples)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([seed, epoch])
            )
        _reset_metrics(model)
        for step in tf.range((samples + batch_size - 1) // batch_size):
            batch = order[step * batch_size : (step + 1) * batch_size]
            model.train_step((_batch(tf.gather(x, batch), width), tf.gather(y, batch)))
        train_logs = {k: tf.identity(v) for k, v in model.get_metrics_result().items()}
        if not validate:
            return train_logs, {}
        return train_logs, _evaluation_loop(model, x_val, y_val, batch_size, width)

    return run_epoch
