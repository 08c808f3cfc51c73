"""What a user sees of ``kedro run``: its steps and results, no third-party noise."""

from __future__ import annotations

import json

import pytest

from tests.project import Project

QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"
NOISE = ("WARNING", "Warning", "DEPRECAT", "deprecated", "Heap", "Traceback")
# TensorFlow 2.21 prints these C++ lines itself, before its logging can be configured
# (TF_CPP_MIN_LOG_LEVEL does not reach them): not yet filtered, see issue 14's note.
TENSORFLOW_CPP = ("WARNING: All log messages before absl", "I0000 ", "E0000 ")
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.with_boston_data(tmp_path_factory.mktemp("console"))


def _lines(done) -> list[str]:
    output = done.stdout + done.stderr
    return [line for line in output.splitlines() if not line.startswith(TENSORFLOW_CPP)]


def test_a_run_shows_its_steps_then_its_results_and_no_noise(project):
    done = project.kedro("run", "--pipeline=boston_kfold", "--params", QUICK)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = _lines(done)
    assert [line for line in lines if any(word in line for word in NOISE)] == []
    assert sum("Running node: train_fold" in line for line in lines) == 4
    # Training progress (every few seconds, and each fit's last epoch), before the end.
    progress = [i for i, line in enumerate(lines) if "Fold 1/4: epoch 3/3" in line]
    final = [i for i, line in enumerate(lines) if "Final model: epoch 2/2" in line]
    summary = [i for i, line in enumerate(lines) if "test_mae" in line]
    assert progress and final and progress[0] < final[0] < summary[0]
    (run,) = project.runs("boston_kfold")
    figures = json.loads(
        (project.path / "data/08_reporting/boston_kfold/metrics.json").read_text()
    )
    end = "\n".join(lines[-25:])
    assert f"test_mae {figures['test_mae']:.4f}" in end
    assert f"mean_fold_val_mae {figures['mean_fold_val_mae']:.4f}" in end
    assert run.info.run_id in end
    assert "mlflow ui --backend-store-uri" in end


def test_a_wrong_parameter_prints_its_message_alone(project):
    done = project.kedro(
        "run", "--pipeline=boston_kfold", "--params", "boston_kfold.training.epochs=0"
    )
    assert done.returncode != 0
    lines = _lines(done)
    assert "Error: Invalid parameters" in "\n".join(lines)
    assert "boston_kfold.training.epochs = 0" in lines[-1]
    assert not [line for line in lines if "Traceback" in line or "│" in line]
