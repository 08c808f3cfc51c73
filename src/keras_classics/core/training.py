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
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

_EPOCH_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fit(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Train ``model`` like ``model.fit`` and return its history (``History.history``).

    ``x``/``y`` are whole in-memory arrays; batches are drawn in-graph, reshuffled each
    epoch from ``seed`` (drawn from NumPy's global state when None, so
    ``keras.utils.set_random_seed`` makes runs repeatable). Validation metrics carry
    Keras' ``val_`` prefix.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(
            f"epochs ({epochs}) and batch_size ({batch_size}) must be >= 1."
        )
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    x_val, y_val = (
        (tf.convert_to_tensor(part) for part in validation_data)
        if validation_data is not None
        else (x[:0], y[:0])
    )
    steps = math.ceil(int(x.shape[0]) / batch_size)
    _build_training_state(model, x[:1], y[:1])
    if seed is None:
        seed = int(np.random.randint(2**31 - 1))
    run_epoch = _epoch_function(
        model, batch_size, shuffle, validate=validation_data is not None
    )
    data = (x, y, x_val, y_val, tf.constant(seed, tf.int64))

    callback_list = keras.callbacks.CallbackList(
        list(callbacks),
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
    return model.history.history


def timed_fit(model: keras.Model, x, y, **kwargs) -> dict:
    """``fit``, returning ``{"history": ..., "seconds": wall time of training}``."""
    started = time.perf_counter()
    history = fit(model, x, y, **kwargs)
    return {"history": history, "seconds": time.perf_counter() - started}


def _build_training_state(model: keras.Model, x: tf.Tensor, y: tf.Tensor) -> None:
    """Create metric, loss and optimizer variables before they are used in a graph loop.

    ``fit`` does the same through the private ``_symbolic_build``; variables cannot be
    created inside the ``tf.while_loop`` of ``_epoch_function``. The equivalence with
    ``model.fit`` is pinned by ``tests/core/test_training.py``.
    """
    model._symbolic_build(data_batch=(x, y))
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _epoch_function(model: keras.Model, batch_size: int, shuffle: bool, validate: bool):
    """The model's traced epoch for these settings, traced once and reused.

    Data, seed and epoch are arguments, not captured constants, so that every fold of
    a k-fold run (same model, same shapes) reuses one trace; see
    ``models.scratch_model``.
    """
    key = (batch_size, shuffle, validate)
    cache = _EPOCH_FUNCTIONS.setdefault(model, {})
    if key not in cache:
        cache[key] = _trace_epoch(model, batch_size, shuffle, validate)
    return cache[key]


def _trace_epoch(model: keras.Model, batch_size: int, shuffle: bool, validate: bool):
    def reset_metrics() -> None:
        for metric in model.metrics:
            metric.reset_state()

    def batches(samples):
        return (samples + batch_size - 1) // batch_size

    @tf.function(reduce_retracing=True)
    def run_epoch(x, y, x_val, y_val, seed, epoch):
        samples = tf.shape(x, out_type=tf.int64)[0]
        order = tf.range(samples)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([seed, epoch])
            )
        reset_metrics()
        for step in tf.range(batches(samples)):
            batch = order[step * batch_size : (step + 1) * batch_size]
            model.train_step((tf.gather(x, batch), tf.gather(y, batch)))
        train_logs = {k: tf.identity(v) for k, v in model.get_metrics_result().items()}
        if not validate:
            return train_logs, {}
        reset_metrics()
        for step in tf.range(batches(tf.shape(x_val, out_type=tf.int64)[0])):
            start = step * batch_size
            model.test_step(
                (x_val[start : start + batch_size], y_val[start : start + batch_size])
            )
        return train_logs, model.get_metrics_result()

    return run_epoch
