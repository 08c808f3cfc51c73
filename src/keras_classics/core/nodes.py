"""The nodes every Keras pipeline shares: build, train (hold-out or k-fold), final fit,
evaluate, and the reports every run logs. ``keras_classics.core.stages`` wires them.

Keras (and TensorFlow) are imported when a node runs, not with this module, so that
Kedro commands that train nothing start without them.

The book's recipe: train on part of the training data and watch the validation curves
(a hold-out set, or k folds); pick the number of epochs (``final_epochs``: a number,
or ``auto`` for the best validation epoch); retrain a fresh model on the chosen data;
evaluate it once on the test set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from keras_classics.core import plots
from keras_classics.core.parameters import check_validation_samples
from keras_classics.core.preparation import Preparation
from keras_classics.core.servable import ServableModel
from keras_classics.core.vectorize import MultiHotRows
from keras_classics.datasets import values

logger = logging.getLogger(__name__)

FINAL_DATA = ("all", "non_held_out")


def build_architecture(model_spec: dict[str, Any], x_train) -> dict[str, Any]:
    """The untrained, compiled model for these inputs, as Keras config data.

    Texts (raw strings) go to a model whose ``TextVectorization`` layer learns its
    vocabulary from the training texts here.
    """
    from keras_classics.core import models

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
    from keras_classics.core import models, training

    check_validation_samples(validation_samples, len(y_train))
    held_out, rest = _holdout(validation_samples)
    values.check_batch(
        len(y_train[rest]),
        training_params["batch_size"],
        "training set without the held-out samples",
        "training.batch_size",
    )
    result = training.timed_fit(
        models.scratch_model(architecture, seed=seed),
        _rows(x_train, rest),
        y_train[rest],
        validation_data=(_rows(x_train, held_out), y_train[held_out]),
        seed=seed,
        progress="Hold-out curve",
        **training_params,
    )
    logger.info(
        "Hold-out curve: %d epochs in %.1f s",
        len(result["history"]["loss"]),
        result["seconds"],
    )
    return result


def best_epoch(curve: dict[str, Any]) -> dict[str, float]:
    """The epoch (counted from 1) with the highest validation accuracy."""
    accuracy = curve["history"]["val_accuracy"]
    best = int(np.argmax(accuracy))
    return {"best_epoch": best + 1, "best_val_accuracy": float(accuracy[best])}


def split_folds(
    x_train: np.ndarray, k: int, batch_size: int
) -> tuple[dict[str, int], ...]:
    """The book's ``k`` validation slices of the training set, in order: one
    ``{"fold", "folds", "start", "stop"}`` per fold (the last samples of an uneven
    split are trained on in every fold). Each fold trains on at least a batch."""
    size = len(x_train) // k
    if size == 0:
        raise ValueError(
            f"There are {k} folds, but the training set has only {len(x_train)} "
            f"samples: use at most {len(x_train)} folds (parameter k)."
        )
    values.check_batch(
        len(x_train) - size,
        batch_size,
        f"training set of each of the {k} folds",
        "training.batch_size",
    )
    return tuple(
        {"fold": fold, "folds": k, "start": fold * size, "stop": (fold + 1) * size}
        for fold in range(k)
    )


def train_fold(
    architecture: dict[str, Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    split: Mapping[str, int],
    training_params: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """Train a fresh model on all but the ``split``'s slice (``split_folds``); validate
    on that slice. Returns the Keras history and the training time in seconds."""
    from keras_classics.core import models, training

    fold, folds = split["fold"], split["folds"]
    validation = slice(split["start"], split["stop"])
    x_rest = np.concatenate([x_train[: validation.start], x_train[validation.stop :]])
    y_rest = np.concatenate([y_train[: validation.start], y_train[validation.stop :]])
    result = training.timed_fit(
        models.scratch_model(architecture, seed=seed + fold),
        x_rest,
        y_rest,
        validation_data=(x_train[validation], y_train[validation]),
        seed=seed + fold,
        progress=f"Fold {fold + 1}/{folds}",
        **training_params,
    )
    scores = {k: v[-1] for k, v in result["history"].items() if k.startswith("val_")}
    logger.info(
        "Fold %d/%d: %s (%.1f s)",
        fold + 1,
        folds,
        ", ".join(f"{name} {value:.3f}" for name, value in scores.items()),
        result["seconds"],
    )
    return result


def summarise_folds(
    *results: dict[str, Any], score: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Per-fold final scores; every fold's curves with their mean, per epoch; and the
    whole as a training result (``collect_metrics``): the curves, each fold's final
    ``score`` (``fold_<i>_<score>``) and their mean (``mean_fold_<score>``), and the
    folds' training time."""
    histories = [result["history"] for result in results]
    fold_scores = pd.DataFrame(
        [
            {
                "fold": fold,
                **{name: values[-1] for name, values in result["history"].items()},
                "seconds": result["seconds"],
            }
            for fold, result in enumerate(results)
        ]
    )
    curves = pd.DataFrame(
        {
            f"fold_{fold}_{name}": values
            for fold, history in enumerate(histories)
            for name, values in history.items()
        }
    )
    for name in histories[0]:
        curves[f"mean_{name}"] = curves[
            [f"fold_{f}_{name}" for f in range(len(histories))]
        ].mean(axis=1)
    curves.index = pd.RangeIndex(1, len(curves) + 1, name="epoch")
    figures = {f"mean_fold_{score}": float(fold_scores[score].mean())} | {
        f"fold_{fold}_{score}": float(value)
        for fold, value in enumerate(fold_scores[score])
    }
    result = {
        "history": {name: values.tolist() for name, values in curves.items()},
        "figures": figures,
        "seconds": float(fold_scores["seconds"].sum()),
    }
    return fold_scores, curves, result


def smoothed_curve(
    epoch_curves: pd.DataFrame, curve: dict[str, Any], column: str
) -> pd.Series:
    """``column`` of the k-fold curves as the book plots it: the first
    ``curve.skip_epochs`` epochs dropped, the rest smoothed with
    ``curve.smoothing_factor``; indexed by epoch."""
    values = epoch_curves[column].iloc[curve["skip_epochs"] :]
    return pd.Series(
        plots.smooth(values, curve["smoothing_factor"]), index=values.index, name=column
    )


def lowest_epoch(curve: pd.Series) -> dict[str, int | None]:
    """The epoch where ``curve`` is lowest (None for a curve whose every epoch was
    skipped: a fixed ``final_epochs`` needs none)."""
    return {"best_epoch": int(curve.idxmin()) if len(curve) else None}


def choose_final_epochs(final_epochs: int | str, best: Mapping[str, Any]) -> int:
    """``final_epochs``, or with ``auto`` the best validation epoch."""
    if final_epochs == "auto":
        logger.info("final_epochs: auto -> %d", best["best_epoch"])
        return int(best["best_epoch"])
    return int(final_epochs)


def train_final_model(  # noqa: PLR0913
    architecture: dict[str, Any],
    x_train,
    y_train: np.ndarray,
    final_epochs: int,
    batch_size: int,
    seed: int,
    data: str = "all",
    validation_samples: int = 0,
    *,
    after_models: int,
):
    """A fresh model trained ``final_epochs`` on ``data``: all training data, or the
    part that was not held out. Its seed is ``seed + after_models``, after those of
    the models trained before it (one hold-out model, or one per fold).

    Returns the model, and its history (``final_`` names) with the training time.
    """
    from keras_classics.core import models, training

    if data not in FINAL_DATA:
        raise ValueError(f"final.data is {data!r}; use one of {', '.join(FINAL_DATA)}.")
    rows = slice(None) if data == "all" else _holdout(validation_samples)[1]
    values.check_batch(
        len(y_train[rows]), batch_size, "final model's training set", "its batch_size"
    )
    model = models.from_config(architecture, seed=seed + after_models)
    result = training.timed_fit(
        model,
        _rows(x_train, rows),
        y_train[rows],
        epochs=final_epochs,
        batch_size=batch_size,
        seed=seed + after_models,
        progress="Final model",
    )
    history = {f"final_{name}": series for name, series in result["history"].items()}
    return model, {"history": history, "seconds": result["seconds"]}


def evaluate(
    model, x_test, y_test: np.ndarray, batch_size: int | None = None, *, loss: str
) -> tuple[dict[str, float], np.ndarray]:
    """The compiled loss and metrics on the test set (``test_<loss>``,
    ``test_<metric>``), and the model's outputs for every test sample; in batches of
    ``batch_size`` (None: the whole set at once)."""
    from keras_classics.core import training

    batch_size = batch_size or len(y_test)
    scores = training.evaluate(model, x_test, y_test, batch_size=batch_size)
    metrics = {
        f"test_{loss if name == 'loss' else name}": value
        for name, value in scores.items()
    }
    logger.info(
        "Test %s",
        ", ".join(f"{name[5:]} {value:.4f}" for name, value in metrics.items()),
    )
    return metrics, training.predict(model, x_test, batch_size=batch_size)


def collect_metrics(
    *results: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, float]]:
    """What a run logs to MLflow - per-epoch histories and final figures - and the
    figures alone (``metrics.json``).

    Each result is a training result (``{"history": {name: [value per epoch]},
    "seconds": ..., "figures": {...}}``, figures optional) or a mapping of figures;
    ``training_seconds`` adds up the training results' times.
    """
    histories: dict[str, list[float]] = {}
    figures: dict[str, float] = {}
    seconds = 0.0
    for result in results:
        if "history" in result:
            histories |= result["history"]
            figures |= result.get("figures", {})
            seconds += result["seconds"]
        else:
            figures |= result
    summary = figures | {"training_seconds": float(seconds)}
    # A figure that is also a history (a fold's score) is logged as its history,
    # whose last value MLflow shows as the metric's.
    return summary | histories, summary


def learning_curves(curve: dict[str, Any]) -> tuple[Figure, Figure]:
    """The book's two figures: loss, and accuracy, per epoch: training and (when
    there was a validation set) validation."""
    history = curve["history"]

    def figure(key: str) -> Figure:
        curves = {f"Training {key}": history[key]}
        if f"val_{key}" in history:
            curves[f"Validation {key}"] = history[f"val_{key}"]
        title = "Training and validation" if len(curves) > 1 else "Training"
        return plots.learning_curves(
            curves, title=f"{title} {key}", ylabel=key.capitalize()
        )

    return figure("loss"), figure("accuracy")


def package_model(
    model,
    preparation: dict[str, Any],
    raw_examples,
    *,
    registered_model_name: str | None = None,
) -> ServableModel:
    """The final model served with its preparation, so that it takes raw inputs; two
    raw test inputs are MLflow's example."""
    examples = raw_examples[:2]
    if isinstance(examples, list | tuple) or examples.dtype.kind in "OUS":
        examples = np.array(list(examples), dtype=object)
    elif examples.dtype.kind in "ui":  # pixels: served as numbers, ints or floats
        examples = examples.astype(np.float64)
    return ServableModel(
        model, Preparation.from_dict(preparation), examples, registered_model_name
    )


def decoded_examples(
    test_sequences: np.ndarray, word_index: dict[str, int], load: dict[str, Any]
) -> np.ndarray:
    """The first test texts back in words, as a person sends them."""
    from keras_classics.datasets import keras_semantics

    return np.array(
        [
            keras_semantics.decode(sequence, word_index, index_from=load["index_from"])
            for sequence in test_sequences[:2]
        ],
        dtype=object,
    )


def first_test_images(images: dict[str, np.ndarray]) -> np.ndarray:
    """A few raw test images (0-255), as a person sends them."""
    return images["x_test"][:2]


def _holdout(validation_samples: int) -> tuple[slice, slice]:
    """The held-out and the remaining rows."""
    if validation_samples < 0:
        return slice(validation_samples, None), slice(None, validation_samples)
    return slice(0, validation_samples), slice(validation_samples, None)


def _rows(x, rows: slice):
    return x.take(rows) if isinstance(x, MultiHotRows) else x[rows]
