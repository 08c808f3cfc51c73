"""Nodes of the Boston Housing k-fold pipeline: small pure functions, no I/O."""

from __future__ import annotations

import logging
from typing import Any

import keras
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from keras_classics.core import models, plots, training
from keras_classics.core.models import ServableModel
from keras_classics.datasets import keras_semantics

logger = logging.getLogger(__name__)


def split_dataset(
    raw: dict[str, np.ndarray], split: dict[str, Any], columns: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test tables, split as ``keras.datasets.boston_housing.load_data``."""
    (x_train, y_train), (x_test, y_test) = keras_semantics.boston_housing(raw, **split)
    return _table(x_train, y_train, columns), _table(x_test, y_test, columns)


def fit_standardiser(train: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """Per-feature mean and standard deviation, from the training data only."""
    features = train[columns["features"]]
    return pd.DataFrame(
        {"mean": features.mean(), "std": features.std(ddof=0)}
    ).rename_axis("feature")


def standardise(
    train: pd.DataFrame,
    test: pd.DataFrame,
    feature_stats: pd.DataFrame,
    columns: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Model inputs: features standardised with the training statistics, float32."""

    def arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        features = (table[feature_stats.index] - feature_stats["mean"]) / feature_stats[
            "std"
        ]
        return (
            features.to_numpy(dtype="float32"),
            table[columns["target"]].to_numpy(dtype="float32"),
        )

    return (*arrays(train), *arrays(test))


def build_model(model_spec: dict[str, Any], x_train: np.ndarray) -> dict[str, Any]:
    """The untrained, compiled architecture, as Keras config data."""
    model = models.build_model(model_spec, x_train.shape[1:], name="boston_regressor")
    model.summary(print_fn=logger.info)
    return models.to_config(model)


def train_fold(
    architecture: dict[str, Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    training_params: dict[str, Any],
    k: int,
    seed: int,
    *,
    fold: int,
    folds: int,
) -> dict[str, Any]:
    """Train a fresh model on all but the ``fold``-th slice; validate on that slice.

    Returns the Keras history and the training time in seconds.
    """
    if k != folds:
        raise ValueError(
            f"Parameter boston_kfold.k is {k}, but this pipeline has {folds} fold nodes: "
            "fold nodes are generated from the parameters when the pipeline is built. "
            "Run it through `kedro run` (which builds it from the run's parameters), "
            "or build it with create_pipeline(k=...)."
        )
    size = len(x_train) // k
    if size == 0:
        raise ValueError(
            f"Parameter boston_kfold.k is {k}, but the training set has only "
            f"{len(x_train)} samples: use at most {len(x_train)} folds."
        )
    validation = slice(fold * size, (fold + 1) * size)
    x_rest = np.concatenate([x_train[: validation.start], x_train[validation.stop :]])
    y_rest = np.concatenate([y_train[: validation.start], y_train[validation.stop :]])
    result = training.timed_fit(
        models.scratch_model(architecture, seed=seed + fold),
        x_rest,
        y_rest,
        validation_data=(x_train[validation], y_train[validation]),
        seed=seed + fold,
        **training_params,
    )
    logger.info(
        "Fold %d/%d: validation MAE %.3f (%.1f s)",
        fold + 1,
        k,
        result["history"]["val_mae"][-1],
        result["seconds"],
    )
    return result


def summarise_folds(*results: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-fold final scores, and every fold's curves with their mean, per epoch."""
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
    return fold_scores, curves


def choose_final_epochs(
    epoch_curves: pd.DataFrame, final_epochs: int | str, curve: dict[str, Any]
) -> int:
    """``final_epochs``, or with ``auto`` the epoch where the smoothed mean MAE is lowest."""
    if final_epochs != "auto":
        return int(final_epochs)
    skip = curve["skip_epochs"]
    smoothed = plots.smooth(
        epoch_curves["mean_val_mae"].iloc[skip:], curve["smoothing_factor"]
    )
    best = skip + int(np.argmin(smoothed)) + 1
    logger.info("final_epochs: auto -> %d (lowest smoothed mean validation MAE)", best)
    return best


def train_final_model(
    architecture: dict[str, Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    final_epochs: int,
    final_batch_size: int,
    seed: int,
    k: int,
):
    """Retrain a fresh model on all training data for the chosen number of epochs.

    Returns the model, and its history with the training time in seconds.
    """
    model = models.from_config(architecture, seed=seed + k)
    result = training.timed_fit(
        model,
        x_train,
        y_train,
        epochs=final_epochs,
        batch_size=final_batch_size,
        seed=seed + k,
    )
    return model, result


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
    """Test-set MSE and MAE of the final model."""
    test_mse, test_mae = model.evaluate(
        x_test, y_test, batch_size=len(x_test), verbose=0
    )
    logger.info("Test MAE %.3f, MSE %.3f", test_mae, test_mse)
    return {"test_mae": float(test_mae), "test_mse": float(test_mse)}


def collect_metrics(
    fold_scores: pd.DataFrame,
    epoch_curves: pd.DataFrame,
    final_result: dict[str, Any],
    test_metrics: dict[str, float],
) -> tuple[dict[str, Any], dict[str, float]]:
    """Everything MLflow records: per-epoch histories and the final figures.

    Returns the metrics to log (histories as lists) and the final figures alone
    (``metrics.json``). ``fold_<i>_val_mae`` is logged as its per-epoch history: its
    last value, the fold's score, is what MLflow shows as the metric's value.
    """
    summary = {
        "mean_fold_val_mae": float(fold_scores["val_mae"].mean()),
        **{
            f"fold_{row.fold}_val_mae": float(row.val_mae)
            for row in fold_scores.itertuples()
        },
        **test_metrics,
        "training_seconds": float(
            fold_scores["seconds"].sum() + final_result["seconds"]
        ),
    }
    histories = {name: values.tolist() for name, values in epoch_curves.items()}
    histories |= {
        f"final_{name}": values for name, values in final_result["history"].items()
    }
    return summary | histories, summary


def plot_validation_mae(
    epoch_curves: pd.DataFrame, curve: dict[str, Any], k: int
) -> Figure:
    """The book's figure: smoothed mean validation MAE, first epochs dropped."""
    skip = curve["skip_epochs"]
    smoothed = plots.smooth(
        epoch_curves["mean_val_mae"].iloc[skip:], curve["smoothing_factor"]
    )
    return plots.learning_curves(
        {"mean validation MAE (smoothed)": smoothed},
        title=f"Boston Housing: {k}-fold validation",
        ylabel="Validation MAE",
        first_epoch=skip + 1,
    )


def package_model(
    model, feature_stats: pd.DataFrame, test: pd.DataFrame
) -> ServableModel:
    """The model to serve: the training standardisation (a ``Normalization`` layer with
    the training mean and variance) then the final model, so callers send raw feature
    values; a few raw test rows are MLflow's input example."""
    served = keras.Sequential(
        [
            keras.Input(shape=(len(feature_stats),), name="features"),
            keras.layers.Normalization(
                mean=feature_stats["mean"].to_numpy(),
                variance=np.square(feature_stats["std"].to_numpy()),
                name="standardise",
            ),
            model,
        ],
        name="boston_price",
    )
    return ServableModel(served, test[feature_stats.index].to_numpy("float32")[:5])


def _table(x: np.ndarray, y: np.ndarray, columns: dict[str, Any]) -> pd.DataFrame:
    table = pd.DataFrame(x, columns=columns["features"])
    table[columns["target"]] = y
    return table
