"""Nodes of the Boston Housing k-fold pipeline: ingest, prepare, its figure and the
served model (the stages between are ``keras_classics.core.stages``')."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from keras_classics.core import plots
from keras_classics.core.preparation import Preparation
from keras_classics.core.servable import ServableModel
from keras_classics.datasets import keras_semantics
from keras_classics.datasets.errors import DataValueError

# Kedro checks the parameters typed with these pydantic models before the run starts,
# and hands the nodes the models.
from .parameters import Columns, Split


def split_dataset(
    raw: dict[str, np.ndarray], split: Split, columns: Columns
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test tables, split as ``keras.datasets.boston_housing.load_data``."""
    (x_train, y_train), (x_test, y_test) = keras_semantics.boston_housing(
        raw, **split.model_dump()
    )
    return _table(x_train, y_train, columns), _table(x_test, y_test, columns)


def fit_standardiser(train: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """Per-feature mean and standard deviation, from the training data only; a
    feature of one value (standard deviation 0) can't be standardised."""
    features = train[columns.features]
    constant = features.columns[features.std(ddof=0) == 0]
    if len(constant):
        raise DataValueError(
            f"Feature {constant[0]} has one value ({features[constant[0]].iloc[0]}) "
            f"in all {len(features)} training rows: standardising would divide by "
            "its standard deviation, 0. Check the raw file (boston_housing_raw)."
        )
    return pd.DataFrame(
        {"mean": features.mean(), "std": features.std(ddof=0)}
    ).rename_axis("feature")


def standardise(
    train: pd.DataFrame,
    test: pd.DataFrame,
    feature_stats: pd.DataFrame,
    columns: Columns,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Model inputs: features standardised with the training statistics, float32."""

    def arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        features = (table[feature_stats.index] - feature_stats["mean"]) / feature_stats[
            "std"
        ]
        return (
            features.to_numpy(dtype="float32"),
            table[columns.target].to_numpy(dtype="float32"),
        )

    return (*arrays(train), *arrays(test))


def plot_validation_mae(smoothed_curve: pd.Series, k: int) -> Figure:
    """The book's figure: the smoothed mean validation MAE, first epochs dropped."""
    return plots.learning_curves(
        {"mean validation MAE (smoothed)": smoothed_curve.tolist()},
        title=f"Boston Housing: {k}-fold validation",
        ylabel="Validation MAE",
        first_epoch=int(smoothed_curve.index[0]) if len(smoothed_curve) else 1,
    )


def package_model(model, preparation: dict, test: pd.DataFrame) -> ServableModel:
    """The model to serve, with its preparation (the training standardisation), so
    that callers send raw feature values; a few raw test rows are MLflow's example."""
    prepared = Preparation.from_dict(preparation)
    return ServableModel(
        model, prepared, test[prepared.features].to_numpy("float64")[:5]
    )


def _table(x: np.ndarray, y: np.ndarray, columns: Columns) -> pd.DataFrame:
    table = pd.DataFrame(x, columns=columns.features)
    table[columns.target] = y
    return table
