"""What a user sees of ``kedro run``: its steps and results, no third-party noise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.project import (
    REAL_DATASETS,
    Project,
    assert_console_for_people,
    needs_real_data,
)

QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"
NOISE = ("WARNING", "Warning", "DEPRECAT", "deprecated", "Heap", "Traceback")
TENSORFLOW_CPP = ("I0000", "E0000", "absl")
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.with_boston_data(tmp_path_factory.mktemp("console"))


def _lines(done) -> list[str]:
    return (done.stdout + done.stderr).splitlines()


def test_a_run_shows_its_steps_then_its_results_and_no_noise(project):
    done = project.kedro("run", "--pipeline=boston_kfold", "--params", QUICK)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = _lines(done)
    noise = NOISE + TENSORFLOW_CPP
    assert [line for line in lines if any(word in line for word in noise)] == []
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


@needs_real_data("boston_housing.npz")
def test_a_terminal_run_on_the_real_data_is_quiet_and_ends_with_its_results(tmp_path):
    project = Project.copy_of_repo(tmp_path)
    code, shown = project.in_terminal(
        "run",
        "--pipeline=boston_kfold",
        "--params",
        QUICK,
        env={"KERAS_CLASSICS_MIRROR": str(REAL_DATASETS)},
    )
    assert code == 0, shown[-3000:]
    (run,) = project.runs("boston_kfold")
    assert_console_for_people(shown, run, "test_mae", "mean_fold_val_mae")


def test_a_wrong_parameter_prints_its_message_alone(project):
    done = project.kedro(
        "run", "--pipeline=boston_kfold", "--params", "boston_kfold.training.epochs=0"
    )
    assert done.returncode != 0
    lines = _lines(done)
    assert "Error: Invalid parameters" in "\n".join(lines)
    assert "boston_kfold.training.epochs = 0" in lines[-1]
    assert not [line for line in lines if "Traceback" in line or "│" in line]


STDERR_WRITER = r"""
import os, subprocess, sys
from keras_classics.console import tensorflow_cpp_lines_dropped

with tensorflow_cpp_lines_dropped():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called\n")
    os.write(2, b"I0000 00:00:17.62 31812 port.cc:153] oneDNN custom operations\n")
    os.write(2, b"E0000 00:00:17.83 31868 node_def_util.cc:682] NodeDef mentions ")
    os.write(2, b"attribute use_unbounded_threadpool which is not in the op\n")
    os.write(2, b"E0000 00:00:17.83 31868 kernel.cc:12] a real error\n")
    os.write(2, b"\r 40%|####")
    subprocess.run([sys.executable, "-c", "import os; os.write(2, b'I0000 00:00:1.5 7 "
                    "cpu.cc:9] from a worker\\nworker says hi\\n')"], check=True)
    print("Error: Invalid parameters", file=sys.stderr)
print("after", file=sys.stderr)
"""


@pytest.mark.parametrize("level", [None, "0"])
def test_tensorflow_cpp_lines_are_dropped_from_stderr_of_a_process_and_its_children(
    level,
):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    done = subprocess.run(
        [sys.executable, "-c", STDERR_WRITER], env=env, capture_output=True, check=True
    )
    kept = done.stderr.decode().split("\n")[:-1]
    if level == "0":  # the user asked for TensorFlow's every line
        text = "\n".join(kept)
        for line in ("absl::InitializeLog", "oneDNN", "use_unbounded", "from a worker"):
            assert line in text
        return
    assert kept == [
        "E0000 00:00:17.83 31868 kernel.cc:12] a real error",
        "\r 40%|####worker says hi",
        "Error: Invalid parameters",
        "after",
    ]
