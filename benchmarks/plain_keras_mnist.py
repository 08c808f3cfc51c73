"""The book's MNIST convnet in plain Keras, doing the work of the `mnist` pipeline.

Deep Learning with Python (1st ed. 5.1): Conv32-MaxPool-Conv64-MaxPool-Conv64-
Flatten-Dense64-Dense10, rmsprop, batch 64, 5 epochs. Like the pipeline's defaults, it
first fits with the last 6,000 training images held out for validation (the learning
curves), then fits a fresh model on all 60,000 and evaluates it on the test set.
Prints one JSON line.
"""

import json
import sys
import time
from pathlib import Path

import keras
import numpy as np


def build_model():
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def main(folder: str) -> None:
    keras.utils.set_random_seed(0)
    with np.load(Path(folder) / "mnist.npz") as data:
        train_images, train_labels = data["x_train"], data["y_train"]
        test_images, test_labels = data["x_test"], data["y_test"]
    train_images = train_images.reshape((60000, 28, 28, 1)).astype("float32") / 255
    test_images = test_images.reshape((10000, 28, 28, 1)).astype("float32") / 255
    train_labels = keras.utils.to_categorical(train_labels)
    test_labels = keras.utils.to_categorical(test_labels)

    started = time.perf_counter()
    build_model().fit(
        train_images[:-6000],
        train_labels[:-6000],
        validation_data=(train_images[-6000:], train_labels[-6000:]),
        epochs=5,
        batch_size=64,
        verbose=0,
    )
    curve_seconds = time.perf_counter() - started
    model = build_model()
    model.fit(train_images, train_labels, epochs=5, batch_size=64, verbose=0)
    training_seconds = time.perf_counter() - started
    test_loss, test_accuracy = model.evaluate(test_images, test_labels, verbose=0)
    print(
        json.dumps(
            {
                "curve_seconds": curve_seconds,
                "training_seconds": training_seconds,
                "test_accuracy": test_accuracy,
                "test_loss": test_loss,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
