"""``training``'s compiled epoch on JAX: one ``jax.jit`` call per epoch, as in Keras'
guide "Writing a training loop from scratch in JAX", built on the model's own
stateless steps - ``train_step(state, data)``/``test_step(state, data)`` of Keras' JAX
trainer, which ``fit`` itself compiles (``stateless_call``, ``stateless_compute_loss``,
the optimizer's ``stateless_apply``, the metrics' stateless updates).

The epoch takes the model's variables as values and returns their new values; they
are written back to the model after each epoch, so that callbacks see (and may
change) the trained weights and the optimizer's state, as under ``fit``. Full batches
run in a ``jax.lax.scan``; a smaller last batch, as ``fit`` has, runs after it. (A
convolutional model on the CPU: one compiled call per batch, ``convolutions_on_cpu``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import keras
import numpy as np

from keras_classics.core.vectorize import MultiHotRows, RowsSpec

CONVOLUTIONS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
)


def epoch_function(
    model: keras.Model,
    batch_size: int,
    shuffle: bool,
    validate: bool,
    spec: RowsSpec,
):
    """``run(x, y, x_val, y_val, seed, epoch) -> (train_logs, val_logs)``."""
    one_call = not convolutions_on_cpu(model)
    train, test = _steps(model, spec, one_call)

    def epoch(state, metrics_reset, x, y, x_val, y_val, key):
        order = jnp.arange(y.shape[0])
        if shuffle:
            order = jax.random.permutation(key, order)
        state, train_logs = _batches(train, state, x, y, order, batch_size, one_call)
        if not validate:
            return state, train_logs, {}
        trainable, non_trainable, _, _ = state
        _, val_logs = _batches(
            test,
            (trainable, non_trainable, metrics_reset),
            x_val,
            y_val,
            jnp.arange(y_val.shape[0]),
            batch_size,
            one_call,
        )
        return state, train_logs, val_logs

    run_epoch = jax.jit(epoch) if one_call else epoch

    def run(x, y, x_val, y_val, seed: int, epoch: int):
        model.reset_metrics()
        metrics_reset = _values(model.metrics_variables)
        state = (
            _values(model.trainable_variables),
            _values(model.non_trainable_variables),
            _values(model.optimizer.variables),
            metrics_reset,
        )
        key = jax.random.fold_in(jax.random.key(seed), epoch)
        state, train_logs, val_logs = run_epoch(
            state, metrics_reset, x, y, x_val, y_val, key
        )
        for variables, values in zip(
            (
                model.trainable_variables,
                model.non_trainable_variables,
                model.optimizer.variables,
                model.metrics_variables,
            ),
            state,
            strict=True,
        ):
            _assign(variables, values)
        return train_logs, val_logs

    return run


def evaluate_function(model: keras.Model, batch_size: int, spec: RowsSpec):
    """``run(x, y) -> logs`` over the whole dataset."""
    one_call = not convolutions_on_cpu(model)
    _, test = _steps(model, spec, one_call)

    def evaluation(state, x, y):
        order = jnp.arange(y.shape[0])
        return _batches(test, state, x, y, order, batch_size, one_call)[1]

    run_evaluation = jax.jit(evaluation) if one_call else evaluation

    def run(x, y):
        model.reset_metrics()
        return run_evaluation(
            (
                _values(model.trainable_variables),
                _values(model.non_trainable_variables),
                _values(model.metrics_variables),
            ),
            x,
            y,
        )

    return run


def convolutions_on_cpu(model: keras.Model) -> bool:
    """Whether the model has convolution layers and JAX computes on the CPU: XLA's CPU
    backend runs a convolution inside a compiled loop several times slower than the
    same convolution compiled on its own (``benchmarks/jax_loops.py``), so such a
    model's epoch is one compiled call per batch instead of one for all."""
    if jax.default_backend() != "cpu":
        return False
    layers = list(model.layers)
    while layers:
        layer = layers.pop()
        if isinstance(layer, CONVOLUTIONS):
            return True
        layers.extend(getattr(layer, "layers", []))
    return False


def predict_function(model: keras.Model, spec: RowsSpec):
    """``run(x, rows) -> outputs`` for the selected rows."""

    @jax.jit
    def run_prediction(trainable, non_trainable, x, rows):
        outputs, _ = model.stateless_call(
            trainable, non_trainable, batch_of(x, rows, spec), training=False
        )
        return outputs

    def run(x, rows):
        return run_prediction(
            _values(model.trainable_variables),
            _values(model.non_trainable_variables),
            x,
            jnp.asarray(rows),
        )

    return run


def _steps(model: keras.Model, spec: RowsSpec, one_call: bool):
    """The model's stateless ``train_step`` and ``test_step`` as
    ``step(state, x, y, rows) -> (state, logs)`` on the given rows; each compiled on
    its own unless the whole epoch is one compiled call."""

    def of(model_step: Callable) -> Callable:
        def step(state, x, y, rows):
            logs, state = model_step(state, (batch_of(x, rows, spec), y[rows]))
            return state, logs

        return step if one_call else jax.jit(step)

    return of(model.train_step), of(model.test_step)


def _batches(step: Callable, state, x, y, order, batch_size: int, in_loop: bool):
    """``step`` over ``order`` (row indices) in batches - in a ``jax.lax.scan`` when
    ``in_loop``, else one call each; the new state and the last step's logs (the
    metrics over every batch, as Keras' metrics accumulate)."""
    full, rest = divmod(order.shape[0], batch_size)
    logs = {}
    if full:
        batches = order[: full * batch_size].reshape(full, batch_size)
        if in_loop:
            state, every_logs = jax.lax.scan(
                lambda carried, rows: step(carried, x, y, rows), state, batches
            )
            logs = jax.tree.map(lambda values: values[-1], every_logs)
        else:
            for rows in np.asarray(batches):  # host rows: no device op per batch
                state, logs = step(state, x, y, rows)
    if rest:
        state, logs = step(state, x, y, order[full * batch_size :])
    return state, logs


def _values(variables: Sequence[keras.Variable]) -> list:
    return [variable.value for variable in variables]


def _assign(variables: Sequence[keras.Variable], values: Sequence) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def tensors(x: np.ndarray | MultiHotRows) -> tuple:
    """The whole dataset as arrays: the array, or the rows' ids and offsets."""
    if isinstance(x, MultiHotRows):
        return jnp.asarray(x.ids), jnp.asarray(x.row_splits, dtype=jnp.int32)
    return (jnp.asarray(x),)


def batch_of(x: tuple, rows, spec: RowsSpec):
    """Compiled: what the model is fed for ``rows`` (indices) of ``x``."""
    if spec is None:
        return x[0][rows]
    return multi_hot(*x, rows, *spec)


def multi_hot(ids, row_splits, rows, width: int, max_length: int):
    """Compiled: the selected rows (``ids[row_splits[r]:row_splits[r + 1]]`` for each
    ``r`` in ``rows``) as float32 multi-hot vectors of ``width``. Each row is read as
    ``max_length`` positions (a static shape); those past its end point outside the
    vector, and the scatter drops them."""
    starts = row_splits[rows]
    offsets = jnp.arange(max_length)
    positions = starts[:, None] + offsets[None, :]
    inside = offsets[None, :] < (row_splits[rows + 1] - starts)[:, None]
    columns = jnp.where(inside, ids[jnp.minimum(positions, ids.shape[0] - 1)], width)
    dense = jnp.zeros((rows.shape[0], width), jnp.float32)
    return dense.at[jnp.arange(rows.shape[0])[:, None], columns].set(1.0, mode="drop")
