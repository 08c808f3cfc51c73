"""Comparison sets: named variants of a pipeline, their validation curves over the same
axes, and a summary of each curve's best epoch, best and final value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader

from keras_classics import sweeps
from keras_classics.pipelines.boston_kfold import pipeline as boston_kfold
from keras_classics.pipelines.imdb import pipeline as imdb
from keras_classics.settings import CONFIG_LOADER_ARGS
from tests.core.test_parameters import DEFAULTS, configured
from tests.project import REPO, Project

SHIPPED = sweeps.load(yaml.safe_load((REPO / "conf/base/sweeps.yml").read_text()))
QUICK = (
    "imdb.load.num_words=80,imdb.validation_samples=30,imdb.training.epochs=4,"
    "imdb.training.batch_size=16,imdb.final_epochs=2,imdb.final.batch_size=16,"
    "imdb.decode.reviews=2"
)


def test_the_books_comparison_sets_are_shipped_with_named_variants():
    assert {
        name: list(sweep.overrides()) for name, sweep in SHIPPED.items() if sweep.curve
    } == {
        "imdb_further_experiments": [
            "original",
            "one_hidden_layer",
            "three_hidden_layers",
            "units_32",
            "units_64",
            "tanh",
            "mse_loss",
        ],
        "reuters_further_experiments": [
            "original",
            "units_32",
            "units_128",
            "one_hidden_layer",
            "three_hidden_layers",
            "bottleneck",
        ],
        "imdb_capacity": ["original", "smaller", "bigger"],
        "imdb_regularization": ["original", "l2", "dropout"],
    }


def test_a_named_variant_is_the_pipelines_parameters_with_its_changes():
    sets = SHIPPED["imdb_regularization"].parameters(DEFAULTS["imdb"])
    assert sets["original"] == {"overrides": {}, "imdb": DEFAULTS["imdb"]}
    dropout = sets["dropout"]["imdb"]
    assert [layer["type"] for layer in dropout["model"]["layers"]] == [
        "Dense",
        "Dropout",
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert {k: v for k, v in dropout.items() if k != "model"} == {
        k: v for k, v in DEFAULTS["imdb"].items() if k != "model"
    }
    l2 = sets["l2"]["imdb"]["model"]["layers"]
    assert [layer.get("kernel_regularizer") for layer in l2] == [
        {"class_name": "L2", "config": {"l2": 0.002}},
        {"class_name": "L2", "config": {"l2": 0.002}},
        None,
    ]
    bottleneck = SHIPPED["reuters_further_experiments"].overrides()["bottleneck"]
    assert bottleneck == {"model.layers.1.units": 4}


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (
            {"pipeline": "imdb", "metric": "m", "grid": {"seed": [1]}, "variants": {}},
            "either grid or variants",
        ),
        ({"pipeline": "imdb", "metric": "m"}, "either grid or variants"),
        ({"pipeline": "imdb", "metric": "m", "grids": {}}, "either grid or variants"),
        (
            {"pipeline": "imdb", "metric": "m", "variants": {"2-layers": {}}},
            "'2-layers' is not a variant name",
        ),
        (
            {"pipeline": "imdb", "metric": "m", "variants": {"a": None}},
            "s.variants.a must map parameter paths to values",
        ),
    ],
)
def test_a_comparison_set_that_cannot_run_is_refused_saying_why(entry, complaint):
    with pytest.raises(ValueError, match=complaint):
        sweeps.load({"s": entry})


@pytest.mark.parametrize("env", ["local", "raw_text", "team"])
def test_every_environments_sweeps_apply_to_its_parameters(env):
    """A sweep whose paths are not the environment's parameters would stop every
    ``kedro run`` there: raw-text IMDB (its model starts with a TextVectorization
    layer) sets the IMDB comparison sets to null."""
    loader = OmegaConfigLoader(str(REPO / "conf"), env=env, **CONFIG_LOADER_ARGS)
    configured = sweeps.load(loader["sweeps"])
    sweeps.with_variants(loader["parameters"], configured)
    imdb_sets = {"imdb_further_experiments", "imdb_capacity", "imdb_regularization"}
    assert (imdb_sets <= set(configured)) is (env != "raw_text")


def test_a_path_that_is_not_a_parameter_names_the_sweep_and_variant():
    raw_text = configured("raw_text")["imdb"]
    with pytest.raises(
        sweeps.SweepError,
        match=r"imdb_capacity.smaller: 'model.layers.0.units' is not a parameter",
    ):
        SHIPPED["imdb_capacity"].parameters(raw_text)


@pytest.mark.parametrize(
    ("curve", "values", "expected"),
    [
        ("val_loss", [0.5, 0.3, 0.4, 0.6], (2, 0.3, 0.6)),  # lowest
        ("val_accuracy", [0.6, 0.5, 0.7, 0.65], (3, 0.7, 0.65)),  # highest
    ],
)
def test_a_curves_best_epoch_is_its_lowest_loss_or_highest_accuracy(
    curve, values, expected
):
    summary = sweeps.curve_summary({"history": {curve: values, "loss": [9] * 4}}, curve)
    assert summary == {
        f"best_{curve}_epoch": expected[0],
        f"best_{curve}": expected[1],
        f"final_{curve}": expected[2],
    }


def test_k_fold_curves_are_read_by_column_and_a_missing_curve_is_named():
    epoch_curves = pd.DataFrame({"mae": [3.0, 2.0], "val_mae": [4.0, 3.5]})
    assert sweeps.curve_summary(epoch_curves, "val_mae")["best_val_mae_epoch"] == 2
    with pytest.raises(ValueError, match="'val_loss' is not in .* mae, val_mae"):
        sweeps.curve_summary(epoch_curves, "val_loss")


def test_the_summary_has_each_variants_changes_curve_and_metrics_best_first():
    sweep = sweeps.Sweep(
        "s",
        "imdb",
        {},
        "test_accuracy",
        "maximize",
        variants={"original": {}, "bigger": {"model.layers.0.units": 512}},
        curve="val_loss",
    )
    table, best, metrics = sweeps.summarise(
        {},
        {"model.layers.0.units": 512},
        {"test_accuracy": 0.8, "best_epoch": 3},  # the pipeline's own best epoch
        {"test_accuracy": 0.9, "best_epoch": 2},
        {"history": {"val_loss": [0.4, 0.3, 0.35]}},
        {"history": {"val_loss": [0.3, 0.5, 0.7]}},
        sweep=sweep,
        variants=["original", "bigger"],
    )
    assert table.to_dict("records") == [
        {
            "variant": "bigger",
            "changes": "model.layers.0.units=512",
            "best_val_loss_epoch": 1,
            "best_val_loss": 0.3,
            "final_val_loss": 0.7,
            "test_accuracy": 0.9,
            "best_epoch": 2,
        },
        {
            "variant": "original",
            "changes": "(the pipeline's parameters)",
            "best_val_loss_epoch": 2,
            "best_val_loss": 0.3,
            "final_val_loss": 0.35,
            "test_accuracy": 0.8,
            "best_epoch": 3,
        },
    ]
    assert best["variant"] == "s.bigger"
    assert metrics == {"best_test_accuracy": 0.9}


def test_layer_lists_are_described_by_their_layers():
    variants = SHIPPED["imdb_regularization"].overrides()
    assert sweeps.describe(variants["dropout"]) == (
        "model.layers=[Dense(16,relu), Dropout(0.5), Dense(16,relu), Dropout(0.5), "
        "Dense(1,sigmoid)]"
    )
    assert sweeps.describe(variants["l2"]) == (
        "model.layers=[Dense(16,relu,L2(0.002)), Dense(16,relu,L2(0.002)), "
        "Dense(1,sigmoid)]"
    )
    assert sweeps.describe({"model.layers.0.units": 4, "seed": 1}) == (
        "model.layers.0.units=4; seed=1"
    )


def test_the_comparison_figure_draws_every_variants_curve_on_one_axes():
    figure = sweeps.comparison_figure(
        {"history": {"val_loss": [0.5, 0.4]}},
        {"history": {"val_loss": [0.6, 0.2, 0.1]}},
        curve="val_loss",
        variants=["original", "bigger"],
    )
    (axes,) = figure.axes
    lines = {line.get_label(): line for line in axes.get_lines()}
    assert list(lines) == ["original", "bigger"]
    np.testing.assert_array_equal(lines["bigger"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["bigger"].get_ydata(), [0.6, 0.2, 0.1])
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [
        "original",
        "bigger",
    ]


@pytest.mark.parametrize(
    ("sweep", "base", "history"),
    [
        (SHIPPED["imdb_capacity"], imdb.create_pipeline(), "curve"),
        (
            sweeps.Sweep(
                "b",
                "boston_kfold",
                {},
                "test_mae",
                variants={"original": {}, "wide": {"model.layers.0.units": 128}},
                curve="val_mae",
            ),
            boston_kfold.create_pipeline(k=2),
            "epoch_curves",
        ),
    ],
)
def test_the_comparison_node_reads_each_variants_history(sweep, base, history):
    pipeline = sweeps.create_pipeline(
        sweep, sweep.parameters(DEFAULTS[sweep.pipeline]), lambda section: base
    )
    (compare,) = [n for n in pipeline.nodes if n.name == f"{sweep.name}.compare_curves"]
    assert compare.inputs == [
        f"{sweep.name}.{variant}.{sweep.pipeline}.{history}"
        for variant in sweep.overrides()
    ]
    assert compare.outputs == [f"{sweep.name}.comparison_plot"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.with_imdb_data(tmp_path_factory.mktemp("comparison"))
    return project


def test_a_comparison_set_runs_its_variants_as_nested_runs_named_after_them(project):
    done = project.kedro(
        "run",
        "--pipeline=imdb_capacity",
        "--runner=keras_classics.runner.ParallelRunner",
        "--params",
        QUICK,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs = project.runs("imdb_capacity")
    (run,) = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = [child for child in runs if child is not run]
    assert {child.data.tags["mlflow.parentRunId"] for child in children} == {
        run.info.run_id
    }
    assert run.info.status == "FINISHED"
    by_name = {child.info.run_name: child for child in children}
    assert sorted(by_name) == ["bigger", "original", "smaller"]
    assert {child.info.status for child in children} == {"FINISHED"}
    layers = yaml.safe_load(by_name["bigger"].data.params["imdb.model.layers"])
    assert [layer["units"] for layer in layers] == [512, 512, 1]

    # The summary's figures are each variant's own, as its nested run logged them.
    summary = pd.read_csv(
        project.path / "data/08_reporting/imdb_capacity/sweep_summary.csv"
    ).set_index("variant")
    for name, child in by_name.items():
        val_loss = project.history(child, "val_loss")
        assert len(val_loss) == 4
        row = summary.loc[name]
        assert row["best_val_loss_epoch"] == int(np.argmin(val_loss)) + 1
        assert row["final_val_loss"] == pytest.approx(val_loss[-1])
        assert row["test_accuracy"] == pytest.approx(
            child.data.metrics["test_accuracy"]
        )
    assert summary["test_accuracy"].is_monotonic_decreasing  # best first
    assert {a.path for a in project.mlflow().list_artifacts(run.info.run_id)} == {
        "sweep_summary.csv",
        "best_variant.json",
        "comparison.png",
    }
