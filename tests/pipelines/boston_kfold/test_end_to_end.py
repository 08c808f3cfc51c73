"""``kedro run --pipeline=boston_kfold`` for real: subprocesses, MLflow on SQLite."""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pytest

from keras_classics.backends import configured_backend
from tests import reference
from tests.project import Project, needs_real_data

QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"
QUICK_NAME = "training.epochs=3,final_epochs=2"
FINAL_METRICS = {"mean_fold_val_mae", "test_mae", "test_mse", "training_seconds"} | {
    f"fold_{i}_val_mae" for i in range(4)
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.with_boston_data(tmp_path_factory.mktemp("boston"))


@pytest.fixture(scope="module")
def sequential_run(project):
    return project.run_pipeline("boston_kfold", "--params", QUICK)


def test_one_finished_run_with_params_histories_and_metrics(project, sequential_run):
    run = sequential_run
    client = project.mlflow()
    assert run.info.status == "FINISHED"
    assert run.data.tags["pipeline"] == "boston_kfold"
    params = run.data.params
    assert params["boston_kfold.k"] == "4"
    assert params["boston_kfold.training.epochs"] == "3"
    assert params["boston_kfold.model.compile.optimizer.type"] == "rmsprop"
    assert params["boston_kfold.final_epochs"] == "2"

    assert set(run.data.metrics) >= FINAL_METRICS
    for fold in range(4):
        for name in ("loss", "mae", "val_loss", "val_mae"):
            history = client.get_metric_history(run.info.run_id, f"fold_{fold}_{name}")
            assert [m.step for m in sorted(history, key=lambda m: m.step)] == [1, 2, 3]
    mean_curve = client.get_metric_history(run.info.run_id, "mean_val_mae")
    assert len(mean_curve) == 3
    folds_last = [run.data.metrics[f"fold_{i}_val_mae"] for i in range(4)]
    assert run.data.metrics["mean_fold_val_mae"] == pytest.approx(np.mean(folds_last))
    assert len(client.get_metric_history(run.info.run_id, "final_loss")) == 2


def test_plot_metrics_json_and_model_are_logged_and_saved(project, sequential_run):
    run_id = sequential_run.info.run_id
    client = project.mlflow()
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"validation_mae.png", "metrics.json"} <= artifacts
    metrics_file = client.download_artifacts(run_id, "metrics.json")
    with open(metrics_file) as stream:
        assert set(json.load(stream)) == FINAL_METRICS

    model = project.logged_model(sequential_run)
    assert model.metadata.get_input_schema().inputs[0].shape == (-1, 13)
    raw_houses = np.tile(np.linspace(0.5, 300, 13), (3, 1))
    prices = model.predict(raw_houses)  # one price per house, in MEDV's $1000s
    assert list(prices.columns) == ["prediction"]
    assert len(prices) == 3 and prices["prediction"].nunique() == 1

    reports = project.path / "data" / "08_reporting" / "boston_kfold"
    assert (reports / "fold_scores.csv").read_text().splitlines()[0].startswith("fold,")
    assert (
        project.path / "data" / "06_models" / "boston_kfold" / "model.keras"
    ).is_file()
    assert (
        "CRIM"
        in (
            project.path / "data" / "04_feature" / "boston_kfold" / "feature_stats.csv"
        ).read_text()
    )


@pytest.mark.parametrize(
    "runner", ["ParallelRunner", "keras_classics.runner.ParallelRunner"]
)
def test_parallel_runner_gives_one_run_with_the_same_metrics_and_same_seed_same_maes(
    project, sequential_run, runner
):
    parallel = project.run_pipeline(
        "boston_kfold", f"--runner={runner}", "--params", QUICK
    )
    assert parallel.info.status == "FINISHED"
    assert set(parallel.data.metrics) == set(sequential_run.data.metrics)
    assert parallel.data.params == sequential_run.data.params
    for fold in range(4):
        key = f"fold_{fold}_val_mae"
        assert parallel.data.metrics[key] == sequential_run.data.metrics[key]
    project.logged_model(parallel)  # packaged in a worker process, logged to the run
    # Named after its runner, so that it stands apart from the sequential run in the UI.
    assert parallel.info.run_name == f"boston_kfold runner=ParallelRunner,{QUICK_NAME}"
    assert sequential_run.info.run_name == f"boston_kfold {QUICK_NAME}"
    # The raw file, read in a worker process, is the run's dataset input.
    assert _inputs(parallel) == _inputs(sequential_run) != []


def _inputs(run) -> list[tuple[str, str]]:
    return [(i.dataset.name, i.dataset.digest) for i in run.inputs.dataset_inputs]


def test_the_raw_file_is_the_runs_dataset_input_with_its_sha256(
    project, sequential_run
):
    (given,) = sequential_run.inputs.dataset_inputs
    npz = project.raw / "boston_housing.npz"
    sha256 = hashlib.sha256(npz.read_bytes()).hexdigest()
    assert given.dataset.name == "boston_housing_raw"
    assert given.dataset.digest == sha256[:16]
    assert json.loads(given.dataset.profile) == {"sha256": sha256}
    assert json.loads(given.dataset.source) == {"uri": npz.resolve().as_uri()}
    experiment = project.mlflow().get_experiment(sequential_run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_auto_final_epochs_trains_the_final_model_for_the_books_epoch_on_every_row(
    project,
):
    # A high learning rate makes the curve noisy enough that skipping its first
    # epochs and smoothing it change the choice; batches of one make the final
    # model's optimizer count the rows it saw.
    run = project.run_pipeline(
        "boston_kfold",
        "--params",
        "boston_kfold.training.epochs=20,boston_kfold.final_epochs=auto,"
        "boston_kfold.curve.skip_epochs=3,boston_kfold.curve.smoothing_factor=0.9,"
        "boston_kfold.model.compile.optimizer.learning_rate=0.05,"
        "boston_kfold.final_batch_size=1",
    )
    curve = project.history(run, "mean_val_mae")
    chosen = reference.best_epoch(curve, skip=3, factor=0.9)
    assert chosen != reference.best_epoch(curve, skip=3, factor=0.0)
    assert chosen != reference.best_epoch(curve, skip=0, factor=0.9)

    assert len(project.history(run, "final_loss")) == chosen
    steps = int(project.saved_model("boston_kfold").optimizer.iterations)
    with np.load(project.raw / "boston_housing.npz") as raw:
        train_rows = int(len(raw["x"]) * (1 - 0.2))  # Keras' split, test_split 0.2
    assert steps == chosen * train_rows


def test_k_set_in_conf_shapes_the_fold_nodes(tmp_path):
    project = Project.with_boston_data(tmp_path)
    project.set_parameters("boston_kfold", k=3)
    run = project.run_pipeline("boston_kfold", "--params", QUICK)
    folds = {
        key
        for key in run.data.metrics
        if key.endswith("_val_mae") and key.startswith("fold_")
    }
    assert folds == {"fold_0_val_mae", "fold_1_val_mae", "fold_2_val_mae"}
    assert run.data.params["boston_kfold.k"] == "3"


def test_k_on_the_command_line_is_refused_before_anything_runs(tmp_path):
    project = Project.with_boston_data(tmp_path)
    done = project.kedro(
        "run", "--pipeline=boston_kfold", "--params", QUICK + ",boston_kfold.k=3"
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "boston_kfold.k decide which nodes exist" in output
    assert "conf/local/parameters_boston_kfold.yml" in output
    assert project.runs("boston_kfold") == []  # no MLflow run was started
    assert not (project.path / "data/02_intermediate/boston_kfold").exists()


def test_another_seed_gives_other_maes(project, sequential_run):
    other = project.run_pipeline(
        "boston_kfold", "--params", QUICK + ",boston_kfold.seed=1"
    )
    assert (
        other.data.metrics["fold_0_val_mae"]
        != sequential_run.data.metrics["fold_0_val_mae"]
    )


def test_offline_without_any_source_fails_fast_with_one_clear_error(
    tmp_path, http_closed_port
):
    project = Project.copy_of_repo(tmp_path)
    offline_env = project.path / "conf" / "offline"
    offline_env.mkdir()
    (offline_env / "catalog_raw.yml").write_text(
        "boston_housing_raw:\n"
        "  type: keras_classics.datasets.KerasRawDataset\n"
        "  filepath: data/01_raw/boston_housing.npz\n"
        "  file_hash: f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5\n"
        f"  urls: ['http://127.0.0.1:{http_closed_port}/boston_housing.npz']\n"
        "  structure: {arrays: {x: {dtype: float64, shape: [null, 13]}, y: {dtype: float64, shape: [null]}}}\n"
    )
    started = time.monotonic()
    done = project.kedro("run", "--pipeline=boston_kfold", "--env=offline")
    elapsed = time.monotonic() - started

    assert done.returncode != 0
    assert elapsed < 60
    output = done.stdout + done.stderr
    assert (
        "DatasetUnavailableError" in output or "could not be loaded" in output.lower()
    )
    assert "data/01_raw/boston_housing.npz" in output
    assert "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5" in output
    assert not any(project.raw.iterdir())
    assert not (project.path / "keras_home").exists() or not any(
        (project.path / "keras_home").rglob("*.npz")
    )


def test_viz_build_succeeds(project):
    done = project.kedro("viz", "build")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (project.path / "build" / "index.html").is_file()


@needs_real_data("boston_housing.npz")
def test_book_results_on_the_real_data(tmp_path):
    project = Project.copy_of_repo(tmp_path)
    run = project.run_on_real_data("boston_kfold")
    # Run on both backends (tests/backends): each run says which it was.
    backend = configured_backend()
    assert run.data.tags["keras_backend"] == run.data.params["keras_backend"] == backend
    assert run.info.status == "FINISHED"
    assert run.data.metrics["mean_fold_val_mae"] <= 2.6
    assert run.data.metrics["test_mae"] <= 2.8
    assert not any(project.raw.iterdir()), (
        "mirror files are read in place, never copied"
    )
