"""Sweeps: grids expanded into namespaced pipeline copies, nested MLflow runs under
the sweep's run, a summary table and the best variant."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from keras_classics import sweeps
from keras_classics.core.parameters import ParameterError, validate
from keras_classics.pipelines import PARAMETER_SCHEMAS
from keras_classics.pipelines.boston_kfold import pipeline as boston_kfold
from tests.core.test_parameters import DEFAULTS
from tests.pipelines.boston_kfold.test_end_to_end import FINAL_METRICS
from tests.project import CONSOLE_NOISE, Project

GRID = {
    "model.layers.0.units": [32, 64],
    "model.layers.1.units": [32, 64],
    "model.compile.optimizer.learning_rate": [0.001, 0.0005],
}
SWEEP = sweeps.Sweep("boston_kfold_sweep", "boston_kfold", GRID, "mean_fold_val_mae")
QUICK = (
    "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2,"
    "boston_kfold.curve.skip_epochs=0"
)


def test_every_combination_is_a_variant_with_its_overrides_applied():
    variants = SWEEP.parameters(DEFAULTS["boston_kfold"])
    assert list(variants) == [f"v{i}" for i in range(8)]
    assert variants["v5"]["overrides"] == {
        "model.layers.0.units": 64,
        "model.layers.1.units": 32,
        "model.compile.optimizer.learning_rate": 0.0005,
    }
    section = variants["v5"]["boston_kfold"]
    assert [layer.get("units") for layer in section["model"]["layers"]] == [64, 32, 1]
    assert section["model"]["compile"]["optimizer"]["learning_rate"] == 0.0005
    assert section["training"] == DEFAULTS["boston_kfold"]["training"]
    assert DEFAULTS["boston_kfold"]["model"]["layers"][0]["units"] == 64  # untouched


def test_variants_are_namespaced_copies_without_model_packaging():
    variants = SWEEP.parameters(DEFAULTS["boston_kfold"])
    base = boston_kfold.create_pipeline(k=4)

    pipeline = sweeps.create_pipeline(SWEEP, variants, lambda section: base)

    names = {node.name for node in pipeline.nodes}
    assert "boston_kfold_sweep.v7.boston_kfold.fold_3.train_fold" in names
    assert "boston_kfold_sweep.summarise_sweep" in names
    # A variant's model is trained and saved, not packaged for MLflow.
    assert "boston_kfold_sweep.v0.boston_kfold.train_final_model" in names
    assert not [name for name in names if name.endswith("package_model")]
    assert len(names) == 8 * (len(base.nodes) - 1) + 1
    assert {name for name in pipeline.inputs() if not name.startswith("params:")} == {
        "boston_housing_raw"
    }


def test_a_grid_path_that_is_not_a_parameter_is_refused():
    typo = sweeps.Sweep("s", "boston_kfold", {"model.layer.0.units": [1]}, "m")
    with pytest.raises(ValueError, match="'model.layer.0.units' is not a parameter"):
        typo.parameters(DEFAULTS["boston_kfold"])


def test_incomplete_sweep_definitions_are_refused():
    with pytest.raises(ValueError, match="s needs pipeline, metric, and either grid"):
        sweeps.load({"s": {"pipeline": "boston_kfold", "grid": GRID}})


def test_invalid_variant_parameters_name_the_variant():
    bad = sweeps.Sweep(
        "s", "boston_kfold", {"model.compile.optimizer.learning_rate": [0.1, -1]}, "m"
    )
    parameters = sweeps.with_variants(DEFAULTS, {"s": bad})
    with pytest.raises(ParameterError) as raised:
        validate(
            parameters,
            PARAMETER_SCHEMAS,
            [],
            extra_keys=("s",),
            variants={
                "s.v0.boston_kfold": "boston_kfold",
                "s.v1.boston_kfold": "boston_kfold",
            },
        )
    message = str(raised.value)
    assert "s.v1.boston_kfold.model.compile.optimizer" in message
    assert "learning_rate must be a number > 0, not -1" in message
    assert "s.v0" not in message


@pytest.mark.parametrize(("goal", "best"), [("minimize", "v1"), ("maximize", "v0")])
def test_summary_ranks_variants_by_the_metric(goal, best):
    sweep = sweeps.Sweep("s", "boston_kfold", {"k": [2, 3]}, "mae", goal)
    table, chosen, metrics = sweeps.summarise(
        {"k": 2},
        {"k": 3},
        {"mae": 3.0},
        {"mae": 2.0},
        sweep=sweep,
        variants=["v0", "v1"],
    )
    assert table.iloc[0]["variant"] == best
    assert list(table.columns) == ["variant", "k", "mae"]
    assert chosen["variant"] == f"s.{best}"
    assert metrics == {"best_mae": chosen["value"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.with_boston_data(tmp_path_factory.mktemp("sweep"))
    # The shipped sweep with half its grid: 4 variants, for time.
    sweeps_yml = project.path / "conf/base/sweeps.yml"
    sweeps_yml.write_text(
        sweeps_yml.read_text().replace("units: [32, 64]", "units: [32]", 1)
    )
    project.set_parameters("boston_kfold", k=2)  # shapes the graph: conf/, not --params
    return project


@pytest.mark.parametrize(
    "runner", ["SequentialRunner", "keras_classics.runner.ParallelRunner"]
)
def test_sweep_run_is_a_parent_with_a_nested_run_per_variant(project, runner):
    before = {run.info.run_id for run in project.runs("boston_kfold_sweep")}
    done = project.kedro(
        "run", "--pipeline=boston_kfold_sweep", f"--runner={runner}", "--params", QUICK
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (parent,) = [
        run
        for run in project.runs("boston_kfold_sweep")
        if run.info.run_id not in before and "mlflow.parentRunId" not in run.data.tags
    ]
    client = project.mlflow()
    children = client.search_runs(
        [parent.info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
    )
    assert parent.info.status == "FINISHED"
    assert len(children) == 4
    # As quiet as one run's, under any runner: no node function seen as '<partial>'.
    lines = (done.stdout + done.stderr).splitlines()
    noise = (*CONSOLE_NOISE, "partial")
    assert [line for line in lines if any(word in line for word in noise)] == []
    assert parent.info.run_id in "\n".join(lines[-25:])
    by_variant = {run.data.tags[sweeps.VARIANT_TAG]: run for run in children}
    assert sorted(by_variant) == [f"boston_kfold_sweep.v{i}" for i in range(4)]
    for run in children:
        assert run.info.status == "FINISHED"
        assert set(run.data.metrics) >= FINAL_METRICS - {
            "fold_2_val_mae",
            "fold_3_val_mae",
        }
        assert {a.path for a in client.list_artifacts(run.info.run_id)} == {
            "metrics.json",
            "validation_mae.png",
        }
        assert run.data.params["boston_kfold.k"] == "2"
    # Variants differ exactly at the grid's paths (layers are one parameter).
    v0, v3 = (by_variant[f"boston_kfold_sweep.v{i}"].data.params for i in (0, 3))
    differing = {key for key in v0 if v0[key] != v3[key]}
    assert differing == {
        "boston_kfold.model.layers",
        "boston_kfold.model.compile.optimizer.learning_rate",
    }

    summary = pd.read_csv(
        project.path / "data/08_reporting/boston_kfold_sweep/sweep_summary.csv"
    )
    assert len(summary) == 4
    assert summary["mean_fold_val_mae"].is_monotonic_increasing
    best = json.loads(
        (
            project.path / "data/08_reporting/boston_kfold_sweep/best_variant.json"
        ).read_text()
    )
    best_run = by_variant[best["variant"]]
    assert best["value"] == pytest.approx(min(summary["mean_fold_val_mae"]))
    assert best_run.data.metrics["mean_fold_val_mae"] == pytest.approx(best["value"])
    assert parent.data.metrics["best_mean_fold_val_mae"] == pytest.approx(best["value"])
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "sweep_summary.csv",
        "best_variant.json",
    }
    # The sweep's run has the sweep's definition; each variant's parameters are in
    # its own run only.
    assert parent.data.params["boston_kfold_sweep.pipeline"] == "boston_kfold"
    assert not [key for key in parent.data.params if ".v0." in key]


def _sweep_project(path, learning_rates: str) -> Project:
    """A project whose only sweep is ``lr_sweep``: boston_kfold at these rates."""
    project = Project.with_boston_data(path)
    (project.path / "conf/base/sweeps.yml").write_text(
        "lr_sweep:\n"
        "  pipeline: boston_kfold\n"
        f"  grid: {{model.compile.optimizer.learning_rate: {learning_rates}}}\n"
        "  metric: mean_fold_val_mae\n"
    )
    project.set_parameters("boston_kfold", k=2)
    return project


def _sweep_runs(project: Project) -> tuple:
    """The sweep's run and its variants' nested runs."""
    runs = project.runs("lr_sweep")
    (parent,) = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = [run for run in runs if run is not parent]
    assert {run.data.tags["mlflow.parentRunId"] for run in children} == {
        parent.info.run_id
    }
    return parent, {run.data.tags[sweeps.VARIANT_TAG]: run for run in children}


@pytest.mark.parametrize(
    ("runner", "start_method"),
    [
        ("SequentialRunner", None),
        ("keras_classics.runner.ParallelRunner", "fork"),  # Linux's default
        ("keras_classics.runner.ParallelRunner", "spawn"),  # macOS' and Windows'
    ],
)
def test_a_sweep_stopped_with_ctrl_c_leaves_every_run_killed(
    tmp_path, runner, start_method
):
    project = _sweep_project(tmp_path, "[0.001, 0.0005]")
    running = project.start(
        "run",
        "--pipeline=lr_sweep",
        f"--runner={runner}",
        "--params",
        "boston_kfold.training.epochs=1500,boston_kfold.training.verbose=2",
        env={"KEDRO_MP_CONTEXT": start_method} if start_method else None,
    )
    running.wait_for("Epoch 3/1500")  # a variant's first fold is in its epochs
    running.interrupt()
    assert running.finish() != 0
    # Only the `kedro run` process ends the runs, not its workers.
    assert running.output.count("Stopped by SIGINT: MLflow run") == 1

    parent, variants = _sweep_runs(project)
    assert sorted(variants) == ["lr_sweep.v0", "lr_sweep.v1"]
    assert parent.info.status == "KILLED"
    assert {run.info.status for run in variants.values()} == {"KILLED"}


def test_a_sweep_whose_variant_diverges_fails_and_leaves_no_run_running(tmp_path):
    project = _sweep_project(tmp_path, "[0.001, 1000000.0]")
    done = project.kedro("run", "--pipeline=lr_sweep", "--params", QUICK)
    assert done.returncode != 0
    assert "Training diverged" in done.stdout + done.stderr

    parent, variants = _sweep_runs(project)
    assert sorted(variants) == ["lr_sweep.v0", "lr_sweep.v1"]
    assert parent.info.status == "FAILED"
    assert variants["lr_sweep.v1"].info.status == "FAILED"
    assert "RUNNING" not in {run.info.status for run in variants.values()}
