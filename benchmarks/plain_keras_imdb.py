"""The book's IMDB recipe in plain Keras (Deep Learning with Python, 2nd ed., 4.1).

The reference for ``text_pipelines.py --pipeline imdb``: the book's code as written,
float64 multi-hot vectors and all. Prints one JSON line: load, vectorisation
(``prepare_seconds``), 20-epoch hold-out fit (``curve_seconds``), 4-epoch final fit
(``final_seconds``), their sum (``training_seconds``), test accuracy and loss.

    python benchmarks/plain_keras_imdb.py ../shared/datasets

The mirror's ``imdb.npz`` is a rebuild whose bytes differ from Keras' file, so the
unmodified ``keras.datasets.imdb.load_data`` would fail its hash check and try to
download. ``load_data`` runs here as it is, with only its ``get_file`` call pointed at
the local file.
"""

import json
import sys
import time
from pathlib import Path
from unittest import mock

import keras
import keras.src.datasets.imdb
import numpy as np
from keras import layers


def load_data(folder, **kwargs):
    """``keras.datasets.imdb.load_data(**kwargs)`` reading ``folder/imdb.npz``."""
    path = str(Path(folder) / "imdb.npz")
    with mock.patch.object(
        keras.src.datasets.imdb, "get_file", lambda *args, **kw: path
    ):
        return keras.datasets.imdb.load_data(**kwargs)


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


def build_model():
    model = keras.Sequential(
        [
            layers.Dense(16, activation="relu"),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def main(folder):
    keras.utils.set_random_seed(0)

    started = time.perf_counter()
    (train_data, train_labels), (test_data, test_labels) = load_data(
        folder, num_words=10000
    )
    load_seconds = time.perf_counter() - started

    started = time.perf_counter()
    x_train = vectorize_sequences(train_data)
    x_test = vectorize_sequences(test_data)
    y_train = np.asarray(train_labels).astype("float32")
    y_test = np.asarray(test_labels).astype("float32")
    prepare_seconds = time.perf_counter() - started

    model = build_model()
    x_val = x_train[:10000]
    partial_x_train = x_train[10000:]
    y_val = y_train[:10000]
    partial_y_train = y_train[10000:]
    started = time.perf_counter()
    model.fit(
        partial_x_train,
        partial_y_train,
        epochs=20,
        batch_size=512,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    curve_seconds = time.perf_counter() - started

    model = build_model()
    started = time.perf_counter()
    model.fit(x_train, y_train, epochs=4, batch_size=512, verbose=0)
    final_seconds = time.perf_counter() - started
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)

    print(
        json.dumps(
            {
                "load_seconds": load_seconds,
                "prepare_seconds": prepare_seconds,
                "curve_seconds": curve_seconds,
                "final_seconds": final_seconds,
                "training_seconds": curve_seconds + final_seconds,
                "test_accuracy": float(test_accuracy),
                "test_loss": float(test_loss),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
