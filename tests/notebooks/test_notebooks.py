"""The notebooks in notebooks/ run from top to bottom in a Jupyter kernel.

Each one runs in a throwaway copy of the project (conf/, pyproject.toml) with the
notebook copied to its ``notebooks/`` folder and the kernel's working directory there,
as in Jupyter. The copy's ``data/01_raw`` holds small synthetic ``mnist.npz`` and
``boston_housing.npz`` files, so ``catalog.load("mnist_images")`` returns 120 training
images and two quick ``boston_kfold`` runs fill the copy's MLflow store.
"""

from __future__ import annotations

import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from tests.project import REAL_DATASETS, REPO, Project, needs_real_data
from tests.synthetic import sha256, write_boston_npz, write_mnist_npz

NOTEBOOKS = REPO / "notebooks"
QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("notebooks"))
    write_mnist_npz(project.raw / "mnist.npz", 120, 40)
    write_boston_npz(project.raw / "boston_housing.npz")
    (project.raw / "SHA256SUMS").write_text(
        "".join(
            f"{sha256(project.raw / name)}  {name}\n"
            for name in ("boston_housing.npz", "mnist.npz")
        )
    )
    return project


def execute(project: Project, name: str, env: dict[str, str] | None = None):
    """Runs ``notebooks/<name>`` inside ``project``; returns the executed notebook.

    nbclient raises ``CellExecutionError`` at the first cell that fails.
    """
    folder = project.path / "notebooks"
    folder.mkdir(exist_ok=True)
    shutil.copy(NOTEBOOKS / name, folder / name)
    notebook = nbformat.read(folder / name, as_version=4)
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "KERAS_CLASSICS_", "PYTEST_", "COV_CORE_"))
        and key != "MPLBACKEND"  # the kernel's inline backend makes the PNG outputs
    }
    environment |= {
        "KEDRO_DISABLE_TELEMETRY": "1",
        "KERAS_HOME": str(project.path / "keras_home"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(env or {}),
    }
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=environment)
    return notebook


def outputs(notebook) -> list[dict]:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    ]


def text(notebook) -> str:
    return "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "")
        for output in outputs(notebook)
    )


def images(notebook) -> int:
    return sum("image/png" in output.get("data", {}) for output in outputs(notebook))


def assert_ran_cleanly(notebook) -> None:
    errors = [output for output in outputs(notebook) if output.output_type == "error"]
    assert not errors, errors
    assert images(notebook) >= 1, "no image/png output"


def test_tensors_notebook_on_small_synthetic_mnist(project):
    notebook = execute(project, "01_tensors.ipynb")
    assert_ran_cleanly(notebook)
    output = text(notebook)
    assert "(120, 28, 28)" in output
    assert "Small data: 120 training, 40 test images." in output
    assert "ValueError: shapes (32,) and (31,) not aligned" in output


@needs_real_data("mnist.npz")
def test_tensors_notebook_on_the_real_mnist_from_the_mirror(tmp_path):
    project = Project.copy_of_repo(tmp_path)  # empty data/01_raw: the mirror is read
    notebook = execute(
        project,
        "01_tensors.ipynb",
        env={"KERAS_CLASSICS_MIRROR": str(REAL_DATASETS)},
    )
    assert_ran_cleanly(notebook)
    output = text(notebook)
    assert "(60000, 28, 28)" in output
    assert "The real MNIST: 60,000 training and 10,000 test images." in output
    assert not any(project.raw.iterdir()), "mirror files are read in place"


def test_compare_runs_notebook_lists_and_draws_two_boston_runs(project):
    project.run_pipeline("boston_kfold", "--params", QUICK)
    project.run_pipeline("boston_kfold", "--params", QUICK + ",boston_kfold.seed=1")
    notebook = execute(project, "02_compare_runs.ipynb")
    assert_ran_cleanly(notebook)
    output = text(notebook)
    assert "2 finished run(s) shown in experiment 'boston_kfold'" in output
    assert "boston_kfold.seed" in output  # the one parameter that differs
    assert "2 curve(s) of 'mean_val_mae' drawn" in output
    assert f"sqlite:///{project.path.as_posix()}/mlflow.db" in output
