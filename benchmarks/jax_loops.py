"""Benchmark: on JAX, an epoch's batches in one compiled ``jax.lax.scan`` against one
compiled call per batch, for a Dense model and for the book's MNIST convnet.

``keras_classics.core.loop_jax`` compiles a whole epoch as one call, except for
convolutional models on the CPU (``convolutions_on_cpu``): this measures why. Each
case trains 100 batches of 64 MNIST images with the model's own stateless
``train_step``, after a first, compiling call; medians of ``--repeats``.

    KERAS_BACKEND=jax python benchmarks/jax_loops.py --mirror ../shared/datasets
"""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import statistics  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from harness import argument_parser  # noqa: E402
from plain_keras_mnist import build_model  # noqa: E402

from keras_classics.core import training  # noqa: E402

BATCHES, BATCH_SIZE = 100, 64


def dense_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    return model


def seconds(model: keras.Model, x, y, in_loop: bool, repeats: int) -> float:
    training.build_training_state(model, np.asarray(x[:1]), np.asarray(y[:1]))
    state = tuple(
        [v.value for v in variables]
        for variables in (
            model.trainable_variables,
            model.non_trainable_variables,
            model.optimizer.variables,
            model.metrics_variables,
        )
    )

    def step(state, rows):
        logs, state = model.train_step(state, (x[rows], y[rows]))
        return state, logs

    batches = np.arange(BATCHES * BATCH_SIZE).reshape(BATCHES, BATCH_SIZE)
    if in_loop:
        scan = jax.jit(lambda state, batches: jax.lax.scan(step, state, batches))

        def epoch():
            return scan(state, batches)[1]["loss"].block_until_ready()
    else:
        one = jax.jit(step)

        def epoch():
            carried = state
            for rows in batches:
                carried, logs = one(carried, rows)
            return logs["loss"].block_until_ready()

    epoch()  # compiles
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    args = argument_parser(__doc__).parse_args()
    with np.load(args.mirror / "mnist.npz") as data:
        x = data["x_train"][: BATCHES * BATCH_SIZE].reshape((-1, 28, 28, 1))
        y = keras.utils.to_categorical(data["y_train"][: BATCHES * BATCH_SIZE])
    x, y = jax.numpy.asarray(x.astype("float32") / 255), jax.numpy.asarray(y)
    print(f"Medians of {args.repeats} runs of {BATCHES} batches, JAX on the CPU.\n")
    print("| model | one call (lax.scan), s | a call per batch, s | scan / per batch |")
    print("|---|---|---|---|")
    for name, make in (("Dense 512", dense_model), ("MNIST convnet", build_model)):
        scanned = seconds(make(), x, y, True, args.repeats)
        per_batch = seconds(make(), x, y, False, args.repeats)
        print(
            f"| {name} | {scanned:.2f} | {per_batch:.2f} | {scanned / per_batch:.1f}x |"
        )


if __name__ == "__main__":
    main()
