"""``training``'s compiled epoch on TensorFlow: one ``tf.function`` per epoch, the
model's stateful ``train_step``/``test_step`` in a ``tf.range`` loop (AutoGraph's
``tf.while_loop``), batches drawn by index from the whole dataset's tensors."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_classics.core.vectorize import MultiHotRows, RowsSpec


def epoch_function(
    model: keras.Model,
    batch_size: int,
    shuffle: bool,
    validate: bool,
    spec: RowsSpec,
):
    """``run(x, y, x_val, y_val, seed, epoch) -> (train_logs, val_logs)``."""

    @tf.function(reduce_retracing=True)
    def run_epoch(x, y, x_val, y_val, seed, epoch):
        samples = tf.shape(y, out_type=tf.int64)[0]
        order = tf.range(samples)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([seed, epoch])
            )
        model.reset_metrics()
        for step in tf.range((samples + batch_size - 1) // batch_size):
            rows = order[step * batch_size : (step + 1) * batch_size]
            model.train_step((batch_of(x, rows, spec), tf.gather(y, rows)))
        train_logs = {k: tf.identity(v) for k, v in model.get_metrics_result().items()}
        if not validate:
            return train_logs, {}
        return train_logs, _evaluation_loop(model, x_val, y_val, batch_size, spec)

    def run(x, y, x_val, y_val, seed: int, epoch: int):
        return run_epoch(
            x,
            y,
            x_val,
            y_val,
            tf.constant(seed, tf.int64),
            tf.constant(epoch, tf.int64),
        )

    return run


def evaluate_function(model: keras.Model, batch_size: int, spec: RowsSpec):
    """``run(x, y) -> logs`` over the whole dataset."""

    @tf.function(reduce_retracing=True)
    def run(x, y):
        return _evaluation_loop(model, x, y, batch_size, spec)

    return run


def predict_function(model: keras.Model, spec: RowsSpec):
    """``run(x, rows) -> outputs`` for the selected rows."""
    return tf.function(
        lambda x, rows: model(batch_of(x, rows, spec), training=False),
        reduce_retracing=True,
    )


def _evaluation_loop(model: keras.Model, x, y, batch_size: int, spec):
    """In-graph: ``test_step`` over consecutive batches; returns the metric results."""
    model.reset_metrics()
    samples = tf.shape(y, out_type=tf.int64)[0]
    for step in tf.range((samples + batch_size - 1) // batch_size):
        rows = tf.range(step * batch_size, tf.minimum((step + 1) * batch_size, samples))
        model.test_step((batch_of(x, rows, spec), tf.gather(y, rows)))
    return model.get_metrics_result()


def tensors(x: np.ndarray | MultiHotRows):
    """The whole dataset as a tensor: the array, or the rows' ids as a ragged tensor."""
    if isinstance(x, MultiHotRows):
        return tf.RaggedTensor.from_row_splits(x.ids, x.row_splits, validate=False)
    return tf.convert_to_tensor(x)


def batch_of(x, rows, spec: RowsSpec):
    """In-graph: what the model is fed for ``rows`` (indices) of ``x``."""
    batch = tf.gather(x, rows)
    return batch if spec is None else multi_hot(batch, spec[0])


def multi_hot(rows: tf.RaggedTensor, width: int) -> tf.Tensor:
    """In-graph: a batch of distinct token ids as float32 multi-hot rows of ``width``.

    (Keras' ``ops.scatter`` of the same ones is several times slower on TensorFlow
    than a sparse tensor made dense: ``benchmarks/backends.py``'s text rows.)
    """
    indices = tf.stack(
        [rows.value_rowids(), tf.cast(rows.flat_values, tf.int64)], axis=1
    )
    ones = tf.SparseTensor(
        indices,
        tf.ones_like(rows.flat_values, dtype=tf.float32),
        dense_shape=tf.stack([rows.nrows(), tf.constant(width, tf.int64)]),
    )
    # Rows hold sorted, distinct ids, so the indices are already in canonical order.
    return tf.sparse.to_dense(ones, validate_indices=False)
