"""Faults during training, in real ``kedro run`` processes: a diverging loss fails the
run, Ctrl-C kills it; either way no model is written or registered, nothing half-written
is left, and the next run works."""

from __future__ import annotations

import signal

import pytest

from tests.project import Project
from tests.synthetic import sha256, write_boston_npz, write_mnist_npz

QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"
MODEL = "data/06_models/{}/model.keras"


@pytest.fixture
def project(tmp_path) -> Project:
    project = Project.copy_of_repo(tmp_path)
    write_boston_npz(project.raw / "boston_housing.npz")
    write_mnist_npz(project.raw / "mnist.npz", 60, 20)
    (project.raw / "SHA256SUMS").write_text(
        "".join(
            f"{sha256(project.raw / name)}  {name}\n"
            for name in ("boston_housing.npz", "mnist.npz")
        )
    )
    return project


def assert_nothing_saved(project: Project, pipeline: str) -> None:
    assert not (project.path / MODEL.format(pipeline)).exists()
    assert project.mlflow().search_model_versions(f"name = '{pipeline}'") == []
    leftovers = [
        path
        for path in project.path.rglob("*")
        if ".partial" in path.name or path.name.startswith(("tmp", ".tmp"))
    ]
    assert leftovers == []


@pytest.mark.parametrize(
    ("pipeline", "params", "parameter"),
    [
        (
            "boston_kfold",
            f"{QUICK},boston_kfold.model.compile.optimizer.learning_rate=1e6",
            "model.compile.optimizer.learning_rate is 1e+06",
        ),
        (
            "scratch_cnn",
            "scratch_cnn.train_samples=60,scratch_cnn.test_samples=20,"
            "scratch_cnn.training.learn_rate=1e6",
            "training.learn_rate is 1e+06",
        ),
    ],
)
def test_diverging_loss_fails_the_run_and_saves_no_model(
    project, pipeline, params, parameter
):
    done = project.kedro("run", f"--pipeline={pipeline}", "--params", params)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Training diverged" in output and parameter in output, output[-3000:]
    (run,) = project.runs(pipeline)
    assert run.info.status == "FAILED"
    assert not any(name.startswith("test_") for name in run.data.metrics)
    assert_nothing_saved(project, pipeline)


@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"]
)
def test_stopped_during_fit_the_run_is_killed_and_nothing_is_half_written(
    project, stop
):
    running = project.start(
        "run",
        "--pipeline=boston_kfold",
        "--params",
        "boston_kfold.training.epochs=5000,boston_kfold.training.verbose=2,"
        "boston_kfold.final_epochs=2",
    )
    running.wait_for("Epoch 3/5000")  # Keras' progress: fold 0 is in its epochs
    if stop == signal.SIGINT:
        running.interrupt()
    else:
        running.process.terminate()
    assert running.finish() != 0
    assert f"Stopped by {stop.name}: MLflow run" in running.output
    (run,) = project.runs("boston_kfold")
    assert run.info.status == "KILLED"
    assert "fold_0_val_mae" not in run.data.metrics
    assert_nothing_saved(project, "boston_kfold")

    after = project.run_pipeline("boston_kfold", "--params", QUICK)
    assert after.info.status == "FINISHED"
    assert (project.path / MODEL.format("boston_kfold")).exists()
