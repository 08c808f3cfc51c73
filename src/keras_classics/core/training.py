"""Training for in-memory data: Keras semantics, one compiled call per epoch.

``keras.Model.fit`` pays a fixed cost every epoch (a fresh data iterator, a separate
``evaluate`` call for validation, Python callbacks around every batch). On the book's
small datasets that cost, not arithmetic, is most of the time (``benchmarks/
boston_kfold.py`` and ``benchmarks/backends.py`` measure it). ``fit`` below keeps what
users expect of Keras training - the model's own compiled ``train_step``/``test_step``
(same loss, metrics and optimizer semantics), per-epoch logs, a ``History``, Keras
callbacks (progress bar, ``EarlyStopping``, ``TerminateOnNaN``...) - but runs each
epoch's shuffle, every batch and the validation pass inside one compiled call of the
Keras backend: a ``tf.function`` on TensorFlow (``loop_tensorflow``), a ``jax.jit`` of
Keras' stateless steps on JAX (``loop_jax``). Batches are drawn by row index inside it.

Inputs are arrays, or ``MultiHotRows`` (token ids, expanded batch by batch).
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import keras
import numpy as np
from keras import ops

from keras_classics.core.errors import TrainingDivergedError
from keras_classics.core.vectorize import MultiHotRows, RowsSpec

if keras.backend.backend() == "jax":
    from keras_classics.core import loop_jax as loop
elif keras.backend.backend() == "tensorflow":
    from keras_classics.core import loop_tensorflow as loop
else:  # pragma: no cover (the project installs TensorFlow and JAX only)
    raise ImportError(
        f"KERAS_BACKEND is {keras.backend.backend()!r}; this project trains on "
        "'tensorflow' (the default) or 'jax'."
    )

logger = logging.getLogger(__name__)

Inputs = np.ndarray | MultiHotRows

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Callbacks every fit in a context adds (``extra_callbacks``).
_EXTRA_CALLBACKS: ContextVar[tuple[keras.callbacks.Callback, ...]] = ContextVar(
    "extra_callbacks", default=()
)


@contextmanager
def extra_callbacks(*callbacks: keras.callbacks.Callback) -> Iterator[None]:
    """Add ``callbacks`` to every ``fit`` in this context (thread): a search's trial
    reporter, which the training nodes do not take."""
    token = _EXTRA_CALLBACKS.set((*_EXTRA_CALLBACKS.get(), *callbacks))
    try:
        yield
    finally:
        _EXTRA_CALLBACKS.reset(token)


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

    ``x``/``y`` are whole in-memory datasets; batches are drawn inside the compiled
    epoch, reshuffled each epoch from ``seed`` (drawn from NumPy's global state when
    None, so ``models.set_random_seed`` makes runs repeatable). Validation
    metrics carry Keras' ``val_`` prefix. A NaN or infinite loss stops training at the
    end of its epoch (Keras' ``TerminateOnNaN``) and raises ``TrainingDivergedError``.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(
            f"epochs ({epochs}) and batch_size ({batch_size}) must be >= 1."
        )
    spec = _spec(x)
    build_training_state(model, x, y)
    train = (loop.tensors(x), ops.convert_to_tensor(y))
    validation = (
        train  # not used
        if validation_data is None
        else (
            loop.tensors(validation_data[0]),
            ops.convert_to_tensor(validation_data[1]),
        )
    )
    steps = math.ceil(len(y) / batch_size)
    if seed is None:
        seed = int(np.random.randint(2**31 - 1))
    run_epoch = _cached(
        model,
        ("epoch", batch_size, shuffle, validation_data is not None, spec),
        lambda: loop.epoch_function(
            model, batch_size, shuffle, validation_data is not None, spec
        ),
    )
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, *_EXTRA_CALLBACKS.get(), keras.callbacks.TerminateOnNaN()],
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
        train_logs, val_logs = run_epoch(*train, *validation, seed, epoch)
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
            float(ops.convert_to_numpy(model.optimizer.learning_rate)),
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
    spec = _spec(x)
    build_training_state(model, x, y)
    run = _cached(
        model,
        ("evaluate", batch_size, spec),
        lambda: loop.evaluate_function(model, batch_size, spec),
    )
    logs = run(loop.tensors(x), ops.convert_to_tensor(y))
    return {name: float(value) for name, value in logs.items()}


def predict(model: keras.Model, x: Inputs, *, batch_size: int) -> np.ndarray:
    """The model's outputs for every row of ``x``, batch by batch."""
    spec = _spec(x)
    run = _cached(model, ("predict", spec), lambda: loop.predict_function(model, spec))
    tensors = loop.tensors(x)
    return np.concatenate(
        [
            ops.convert_to_numpy(
                run(tensors, np.arange(start, min(start + batch_size, len(x))))
            )
            for start in range(0, len(x), batch_size)
        ]
    )


def build_training_state(model: keras.Model, x: Inputs, y: np.ndarray) -> None:
    """Create a compiled model's loss, metric and optimizer variables, as ``fit`` does
    before its first step (variables can't be created inside a compiled epoch):
    compute the loss and metrics of the first sample once, eagerly, through Keras'
    public ``compute_loss``/``compute_metrics``, then reset the metrics."""
    first = x.take(slice(0, 1)).to_dense() if isinstance(x, MultiHotRows) else x[:1]
    first, target = ops.convert_to_tensor(first), ops.convert_to_tensor(y[:1])
    outputs = model(first, training=False)
    model.compute_loss(x=first, y=target, y_pred=outputs, training=False)
    model.compute_metrics(first, target, outputs, sample_weight=None)
    model.reset_metrics()
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _spec(x: Inputs) -> RowsSpec:
    return (x.width, x.max_length) if isinstance(x, MultiHotRows) else None


def _cached(model: keras.Model, key: tuple, make):
    """The model's compiled function for ``key``: compiled once, reused across calls.

    Data, seed and epoch are arguments, not captured constants, so that every fold of
    a k-fold run (same model, same shapes) reuses one compilation; see
    ``models.scratch_model``.
    """
    functions = _FUNCTIONS.setdefault(model, {})
    if key not in functions:
        functions[key] = make()
    return functions[key]
