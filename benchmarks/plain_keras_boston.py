"""The book's Boston Housing k-fold recipe in plain Keras (Deep Learning with Python, 4.3).

The reference for ``boston_kfold.py``: same data, model and settings as the pipeline's
defaults. Prints one JSON line: training seconds, mean fold validation MAE, test MAE.
"""

import json
import sys
import time

import keras
import numpy as np


def load_data(path):
    """``keras.datasets.boston_housing.load_data`` on a local file."""
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    indices = np.arange(len(x))
    np.random.RandomState(113).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * 0.8)
    return (x[:split], y[:split]), (x[split:], y[split:])


def build_model():
    model = keras.Sequential(
        [
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def main(path):
    keras.utils.set_random_seed(0)
    (train_data, train_targets), (test_data, test_targets) = load_data(path)
    mean = train_data.mean(axis=0)
    train_data -= mean
    std = train_data.std(axis=0)
    train_data /= std
    test_data -= mean
    test_data /= std

    started = time.perf_counter()
    k = 4
    num_val_samples = len(train_data) // k
    num_epochs = 100
    all_mae_histories = []
    for i in range(k):
        val_data = train_data[i * num_val_samples : (i + 1) * num_val_samples]
        val_targets = train_targets[i * num_val_samples : (i + 1) * num_val_samples]
        partial_train_data = np.concatenate(
            [
                train_data[: i * num_val_samples],
                train_data[(i + 1) * num_val_samples :],
            ],
            axis=0,
        )
        partial_train_targets = np.concatenate(
            [
                train_targets[: i * num_val_samples],
                train_targets[(i + 1) * num_val_samples :],
            ],
            axis=0,
        )
        model = build_model()
        history = model.fit(
            partial_train_data,
            partial_train_targets,
            validation_data=(val_data, val_targets),
            epochs=num_epochs,
            batch_size=16,
            verbose=0,
        )
        all_mae_histories.append(history.history["val_mae"])

    model = build_model()
    model.fit(train_data, train_targets, epochs=80, batch_size=16, verbose=0)
    training_seconds = time.perf_counter() - started
    test_mse_score, test_mae_score = model.evaluate(test_data, test_targets, verbose=0)
    print(
        json.dumps(
            {
                "training_seconds": training_seconds,
                "mean_fold_val_mae": float(np.mean([h[-1] for h in all_mae_histories])),
                "test_mae": float(test_mae_score),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
