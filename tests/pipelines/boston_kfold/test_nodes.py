import numpy as np
import pandas as pd
import pytest

from keras_classics.core import nodes as stage_nodes
from keras_classics.pipelines.boston_kfold import nodes
from keras_classics.pipelines.boston_kfold.parameters import Columns
from tests import reference
from tests.synthetic import TINY_REGRESSOR_SPEC

COLUMNS = Columns(features=["A", "B", "C"], target="MEDV")  # as Kedro hands it
SPEC = TINY_REGRESSOR_SPEC


def _table(n, seed):
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(5, 3, size=(n, 3)), columns=COLUMNS.features)
    table["MEDV"] = table.sum(axis=1)
    return table


def test_standardisation_is_fitted_on_training_data_only():
    train, test = _table(40, 0), _table(10, 1)
    stats = nodes.fit_standardiser(train, COLUMNS)
    x_train, y_train, x_test, _ = nodes.standardise(train, test, stats, COLUMNS)

    wild_test = test * 1000 + 7
    stats_again = nodes.fit_standardiser(train, COLUMNS)
    x_train_again, _, x_wild, _ = nodes.standardise(
        train, wild_test, stats_again, COLUMNS
    )

    pd.testing.assert_frame_equal(stats, stats_again)
    np.testing.assert_array_equal(x_train, x_train_again)
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(
        x_test,
        ((test[COLUMNS.features] - stats["mean"]) / stats["std"]).to_numpy(),
        rtol=1e-6,
    )
    assert not np.allclose(x_wild, x_test)
    assert x_train.dtype == np.float32 and y_train.dtype == np.float32
    assert list(stats.index) == COLUMNS.features


def test_every_fold_trains_a_fresh_model_on_the_rest_and_validates_on_its_slice():
    x = np.arange(20, dtype="float32").reshape(10, 2)
    y = np.arange(10, dtype="float32")
    splits = stage_nodes.split_folds(x, 3, 1)
    assert [(s["fold"], s["folds"], s["start"], s["stop"]) for s in splits] == [
        (0, 3, 0, 3),
        (1, 3, 3, 6),
        (2, 3, 6, 9),
    ]
    architecture = stage_nodes.build_architecture(SPEC, x)
    for split in splits:
        result = stage_nodes.train_fold(
            architecture, x, y, split, {"epochs": 1, "batch_size": 4}, 0
        )
        assert set(result["history"]) == {"loss", "mae", "val_loss", "val_mae"}
        assert result["seconds"] > 0


def test_more_folds_than_samples_are_refused():
    x = np.zeros((3, 2), dtype="float32")
    with pytest.raises(ValueError, match="4 folds, but the training set has only 3"):
        stage_nodes.split_folds(x, 4, 1)


def test_summaries_and_auto_final_epochs():
    results = [
        {
            "history": {"loss": [3.0, 2.0, 1.0, 2.0], "val_mae": [4.0, 3.0, 1.0, 2.0]},
            "seconds": 1.0,
        },
        {
            "history": {"loss": [3.0, 2.0, 1.0, 2.0], "val_mae": [2.0, 3.0, 3.0, 4.0]},
            "seconds": 2.0,
        },
    ]
    scores, curves, result = stage_nodes.summarise_folds(*results, score="val_mae")
    assert scores.to_dict("list") == {
        "fold": [0, 1],
        "loss": [2.0, 2.0],
        "val_mae": [2.0, 4.0],
        "seconds": [1.0, 2.0],
    }
    assert curves["mean_val_mae"].tolist() == [3.0, 3.0, 2.0, 3.0]
    assert list(curves.index) == [1, 2, 3, 4]
    assert result["figures"] == {
        "mean_fold_val_mae": 3.0,
        "fold_0_val_mae": 2.0,
        "fold_1_val_mae": 4.0,
    }
    assert result["seconds"] == 3.0

    curve = {"skip_epochs": 1, "smoothing_factor": 0.0}
    smoothed = stage_nodes.smoothed_curve(curves, curve, "mean_val_mae")
    best = stage_nodes.lowest_epoch(smoothed)
    assert stage_nodes.choose_final_epochs("auto", best) == 3
    assert stage_nodes.choose_final_epochs(7, best) == 7


def test_auto_final_epochs_is_the_books_smoothed_minimum_after_the_skipped_epochs():
    # A low first epoch (dropped by skip_epochs), a lone dip at epoch 6 (evened out
    # by the smoothing), a lasting low at epochs 10-12.
    curve = [1.0, 9.0, 8.0, 7.0, 6.0, 2.0, 6.0, 5.0, 4.0, 3.5, 3.4, 3.6, 4.5, 5.0]
    epoch_curves = pd.DataFrame(
        {"mean_val_mae": curve}, index=pd.RangeIndex(1, len(curve) + 1, name="epoch")
    )
    settings = {"skip_epochs": 2, "smoothing_factor": 0.5}
    expected = reference.best_epoch(curve, skip=2, factor=0.5)
    # The curve tells the book's reading apart from others.
    assert expected != reference.best_epoch(curve, skip=2, factor=0.0)  # unsmoothed
    assert expected != reference.best_epoch(curve, skip=0, factor=0.5)  # not skipped

    smoothed = stage_nodes.smoothed_curve(epoch_curves, settings, "mean_val_mae")
    np.testing.assert_allclose(smoothed, reference.smooth_curve(curve[2:], 0.5))
    assert list(smoothed.index) == list(range(3, len(curve) + 1))
    best = stage_nodes.lowest_epoch(smoothed)
    assert stage_nodes.choose_final_epochs("auto", best) == expected


def test_collected_metrics_hold_the_issue_keys():
    curves = pd.DataFrame(
        {
            "fold_0_val_mae": [3.0, 2.0],
            "fold_1_val_mae": [5.0, 4.0],
            "mean_val_mae": [4.0, 3.0],
        }
    )
    kfold = {
        "history": {name: values.tolist() for name, values in curves.items()},
        "figures": {
            "mean_fold_val_mae": 3.0,
            "fold_0_val_mae": 2.0,
            "fold_1_val_mae": 4.0,
        },
        "seconds": 3.0,
    }
    final = {"history": {"final_loss": [1.0], "final_mae": [0.5]}, "seconds": 0.5}
    metrics, summary = stage_nodes.collect_metrics(
        kfold, final, {"test_mae": 2.5, "test_mse": 9.0}
    )
    assert summary == {
        "mean_fold_val_mae": 3.0,
        "fold_0_val_mae": 2.0,
        "fold_1_val_mae": 4.0,
        "test_mae": 2.5,
        "test_mse": 9.0,
        "training_seconds": 3.5,
    }
    # a history whose last value is the score
    assert metrics["fold_0_val_mae"] == [3.0, 2.0]
    assert metrics["mean_val_mae"] == [4.0, 3.0]
    assert metrics["final_loss"] == [1.0]
