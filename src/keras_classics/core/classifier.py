"""Hold-out training, evaluation and reports for classifiers (IMDB, Reuters, MNIST).

The book's recipe: train on all but the first ``validation_samples`` training samples
and watch the validation curves; pick the number of epochs (``final_epochs``: an
integer, or ``auto`` for the best validation epoch); retrain a fresh model on the
chosen data; evaluate once on the test set. ``holdout_stages`` wires these shared nodes
on standard dataset names; each pipeline adds its own ingest, prepare and reports.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from kedro.pipeline import Pipeline, node
from matplotlib.figure import Figure

from keras_classics.core import models, plots, training
from keras_classics.core.models import ServableModel
from keras_classics.core.parameters import (
    check_label_encoding,
    check_validation_samples,
)
from keras_classics.core.vectorize import MultiHotRows

logger = logging.getLogger(__name__)

FINAL_DATA = ("all", "non_held_out")


def build_architecture(model_spec: dict[str, Any], x_train) -> dict[str, Any]:
    """The untrained, compiled model for these inputs, as Keras config data.

    Texts (raw strings) go to a model whose ``TextVectorization`` layer learns its
    vocabulary from the training texts here.
    """
    if isinstance(x_train, MultiHotRows):
        model = models.build_model(model_spec, (x_train.width,))
    elif x_train.dtype.kind in "OUS":
        spec = models.with_vocabularies(model_spec, x_train)
        model = models.build_model(spec, (), input_dtype="string")
    else:
        model = models.build_model(model_spec, x_train.shape[1:])
    model.summary(print_fn=logger.info)
    return models.to_config(model)


def train_with_holdout(
    architecture: dict[str, Any],
    x_train,
    y_train: np.ndarray,
    validation_samples: int,
    training_params: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """Train on all but ``validation_samples`` held-out samples, validating on those:
    the first ones, or with a negative number the last ones (like ``x[-6000:]``)."""
    check_validation_samples(validation_samples, len(y_train))
    held_out, rest = _holdout(validation_samples)
    result = training.timed_fit(
        models.scratch_model(architecture, seed=seed),
        _rows(x_train, rest),
        y_train[rest],
        validation_data=(_rows(x_train, held_out), y_train[held_out]),
        seed=seed,
        **training_params,
    )
    logger.info(
        "Hold-out curve: %d epochs in %.1f s",
        len(result["history"]["loss"]),
        result["seconds"],
    )
    return result


def encode_labels(
    train_classes: np.ndarray,
    test_classes: np.ndarray,
    label_encoding: str,
    class_names: list[str],
    loss: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Class ids as one-hot rows (for ``categorical_crossentropy``) or as integers
    (for ``sparse_categorical_crossentropy``): the same information, two encodings."""
    check_label_encoding(label_encoding, loss)
    if label_encoding == "integer":
        return train_classes.astype(np.int64), test_classes.astype(np.int64)
    identity = np.eye(len(class_names), dtype=np.float32)
    return identity[train_classes], identity[test_classes]


def best_epoch(curve: dict[str, Any]) -> dict[str, float]:
    """The epoch (counted from 1) with the highest validation accuracy."""
    accuracy = curve["history"]["val_accuracy"]
    best = int(np.argmax(accuracy))
    return {"best_epoch": best + 1, "best_val_accuracy": float(accuracy[best])}


def choose_final_epochs(final_epochs: int | str, best: dict[str, float]) -> int:
    """``final_epochs``, or with ``auto`` the best validation epoch."""
    if final_epochs == "auto":
        logger.info("final_epochs: auto -> %d", best["best_epoch"])
        return int(best["best_epoch"])
    return int(final_epochs)


def train_final_model(
    architecture: dict[str, Any],
    x_train,
    y_train: np.ndarray,
    final_epochs: int,
    final: dict[str, Any],
    validation_samples: int,
    seed: int,
):
    """A fresh model trained ``final_epochs`` on ``final.data``: all training data, or
    the part that was not held out."""
    if final["data"] not in FINAL_DATA:
        raise ValueError(
            f"final.data is {final['data']!r}; use one of {', '.join(FINAL_DATA)}."
        )
    rows = slice(None) if final["data"] == "all" else _holdout(validation_samples)[1]
    model = models.from_config(architecture, seed=seed + 1)
    result = training.timed_fit(
        model,
        _rows(x_train, rows),
        y_train[rows],
        epochs=final_epochs,
        batch_size=final["batch_size"],
        seed=seed + 1,
    )
    return model, result


def evaluate(model, x_test, y_test: np.ndarray, batch_size: int):
    """Test loss and accuracy, and the model's outputs for every test sample."""
    scores = training.evaluate(model, x_test, y_test, batch_size=batch_size)
    logger.info("Test accuracy %.4f, loss %.4f", scores["accuracy"], scores["loss"])
    outputs = training.predict(model, x_test, batch_size=batch_size)
    return {"test_loss": scores["loss"], "test_accuracy": scores["accuracy"]}, outputs


def learning_curves(curve: dict[str, Any]) -> tuple[Figure, Figure]:
    """The book's two figures: loss, and accuracy, training vs validation."""
    history = curve["history"]
    return tuple(
        plots.learning_curves(
            {
                f"Training {label}": history[key],
                f"Validation {label}": history[f"val_{key}"],
            },
            title=f"Training and validation {label}",
            ylabel=label.capitalize(),
        )
        for key, label in (("loss", "loss"), ("accuracy", "accuracy"))
    )


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class ids from sigmoid (one column) or softmax outputs."""
    if outputs.ndim == 1 or outputs.shape[1] == 1:
        return (outputs.reshape(-1) > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def true_classes(labels: np.ndarray) -> np.ndarray:
    """Class ids from integer or one-hot labels."""
    return labels.argmax(axis=1) if labels.ndim == 2 else labels.astype(np.int64)


def confusion_matrix(
    y_test: np.ndarray, outputs: np.ndarray, class_names: list[str]
) -> Figure:
    """Counts of true (rows) against predicted (columns) classes."""
    n = len(class_names)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (true_classes(y_test), predicted_classes(outputs)), 1)
    return plots.confusion_matrix(counts, class_names)


def class_report(
    y_test: np.ndarray, outputs: np.ndarray, class_names: list[str]
) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support on the test set."""
    truth, predicted = true_classes(y_test), predicted_classes(outputs)
    rows = []
    for class_id, name in enumerate(class_names):
        hits = np.sum((predicted == class_id) & (truth == class_id))
        predicted_n, support = np.sum(predicted == class_id), np.sum(truth == class_id)
        precision = hits / predicted_n if predicted_n else 0.0
        recall = hits / support if support else 0.0
        f1 = (
            2 * precision * recall / (precision + recall) if precision + recall else 0.0
        )
        rows.append(
            {
                "class_id": class_id,
                "class": name,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "support": int(support),
            }
        )
    return pd.DataFrame(rows)


def collect_metrics(
    curve: dict[str, Any],
    best: dict[str, float],
    final: dict[str, Any],
    test_metrics: dict[str, float],
    *extra_metrics: dict[str, float],
) -> tuple[dict[str, Any], dict[str, float]]:
    """Per-epoch histories and final figures for MLflow, and the figures alone."""
    summary = {
        **test_metrics,
        **best,
        "training_seconds": float(curve["seconds"] + final["seconds"]),
    }
    for metrics in extra_metrics:
        summary |= metrics
    histories = dict(curve["history"])
    histories |= {f"final_{name}": values for name, values in final["history"].items()}
    return histories | summary, summary


def package_model(model, x_test) -> ServableModel:
    """The final model, with two test inputs (dense, as served) as MLflow's example."""
    example = _rows(x_test, slice(0, 2))
    return ServableModel(
        model, example.to_dense() if isinstance(example, MultiHotRows) else example
    )


def holdout_stages(
    extra_metrics: tuple[str, ...] = (), class_names: str = "params:class_names"
) -> Pipeline:
    """Build, hold-out curve, final model, evaluation and the shared reports.

    Consumes ``x_train``, ``y_train``, ``x_test``, ``y_test``, ``params:class_names``
    and the metric dicts named in ``extra_metrics``; reads the parameters ``model``,
    ``validation_samples``, ``training``, ``final_epochs``, ``final`` and ``seed``.
    """
    return Pipeline(
        [
            node(
                build_architecture,
                inputs=["params:model", "x_train"],
                outputs="architecture",
                name="build_model",
            ),
            node(
                train_with_holdout,
                inputs=[
                    "architecture",
                    "x_train",
                    "y_train",
                    "params:validation_samples",
                    "params:training",
                    "params:seed",
                ],
                outputs="curve",
                name="train_with_holdout",
            ),
            node(best_epoch, inputs="curve", outputs="best", name="best_epoch"),
            node(
                choose_final_epochs,
                inputs=["params:final_epochs", "best"],
                outputs="final_epochs",
                name="choose_final_epochs",
            ),
            node(
                train_final_model,
                inputs=[
                    "architecture",
                    "x_train",
                    "y_train",
                    "final_epochs",
                    "params:final",
                    "params:validation_samples",
                    "params:seed",
                ],
                outputs=["model", "final_result"],
                name="train_final_model",
            ),
            node(
                evaluate,
                inputs=["model", "x_test", "y_test", "params:final.batch_size"],
                outputs=["test_metrics", "test_outputs"],
                name="evaluate",
            ),
            node(
                learning_curves,
                inputs="curve",
                outputs=["loss_plot", "accuracy_plot"],
                name="plot_learning_curves",
            ),
            node(
                confusion_matrix,
                inputs=["y_test", "test_outputs", class_names],
                outputs="confusion_matrix_plot",
                name="plot_confusion_matrix",
            ),
            node(
                collect_metrics,
                inputs=[
                    "curve",
                    "best",
                    "final_result",
                    "test_metrics",
                    *extra_metrics,
                ],
                outputs=["mlflow_metrics", "metrics_json"],
                name="collect_metrics",
            ),
            node(
                package_model,
                inputs=["model", "x_test"],
                outputs="mlflow_model",
                name="package_model",
            ),
        ]
    )


def _holdout(validation_samples: int) -> tuple[slice, slice]:
    """The held-out and the remaining rows."""
    if validation_samples < 0:
        return slice(validation_samples, None), slice(None, validation_samples)
    return slice(0, validation_samples), slice(validation_samples, None)


def _rows(x, rows: slice):
    return x.take(rows) if isinstance(x, MultiHotRows) else x[rows]
