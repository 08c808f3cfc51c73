"""Same seed, same results: each pipeline run twice on tiny synthetic data logs
identical MLflow metrics, every per-epoch value included (timings aside)."""

from __future__ import annotations

import pytest

from tests.pipelines.boston_kfold.test_end_to_end import QUICK as BOSTON_QUICK
from tests.pipelines.mnist.test_end_to_end import QUICK as MNIST_QUICK
from tests.pipelines.text.test_end_to_end import QUICK as TEXT_QUICK
from tests.pipelines.text.test_end_to_end import VOCAB
from tests.project import Project
from tests.synthetic import (
    sha256,
    write_boston_npz,
    write_mnist_npz,
    write_sequences_npz,
    write_word_index,
)

QUICK = {
    "boston_kfold": BOSTON_QUICK,
    **TEXT_QUICK,
    "mnist": MNIST_QUICK,
    "scratch_cnn": "scratch_cnn.train_samples=100,scratch_cnn.test_samples=40,"
    "scratch_cnn.training.epochs=2",
}
# The project (fixture) whose synthetic raw files each pipeline reads: one pipeline
# per code path (reuters trains as imdb does - token ids as multi-hot rows, a hold-out
# curve, the same loop - with another output layer).
DATA = {
    "boston_kfold": "boston",
    "imdb": "text",
    "mnist": "mnist",
    "scratch_cnn": "mnist",
}


def _project(path, writers: dict) -> Project:
    """A project copy with the raw files ``writers`` write, and their checksums."""
    project = Project.copy_of_repo(path)
    for name, write in writers.items():
        write(project.raw / name)
    (project.raw / "SHA256SUMS").write_text(
        "".join(f"{sha256(project.raw / name)}  {name}\n" for name in writers)
    )
    return project


@pytest.fixture(scope="module")
def boston(tmp_path_factory) -> Project:
    return _project(
        tmp_path_factory.mktemp("boston"), {"boston_housing.npz": write_boston_npz}
    )


@pytest.fixture(scope="module")
def text(tmp_path_factory) -> Project:
    return _project(
        tmp_path_factory.mktemp("text"),
        {
            "imdb.npz": lambda path: write_sequences_npz(path, 150, 60, VOCAB),
            "imdb_word_index.json": lambda path: write_word_index(path, VOCAB),
        },
    )


@pytest.fixture(scope="module")
def mnist(tmp_path_factory) -> Project:
    return _project(
        tmp_path_factory.mktemp("mnist"),
        {"mnist.npz": lambda path: write_mnist_npz(path, 120, 40)},
    )


def _metrics(project: Project, pipeline: str, params: str) -> dict[str, list]:
    """Run ``pipeline``; the (step, value) history of each metric but the timings."""
    run = project.run_pipeline(pipeline, "--params", params)
    client = project.mlflow()
    return {
        key: sorted(
            (m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)
        )
        for key in run.data.metrics
        if not key.endswith("_seconds")
    }


@pytest.mark.parametrize("pipeline", list(DATA))
def test_same_seed_gives_identical_metrics(request, pipeline):
    project = request.getfixturevalue(DATA[pipeline])
    first, second = (_metrics(project, pipeline, QUICK[pipeline]) for _ in range(2))
    assert any(len(history) > 1 for history in first.values())  # per-epoch curves
    assert first == second


def test_another_seed_gives_other_metrics(boston):
    first, second = (
        _metrics(boston, "boston_kfold", f"{BOSTON_QUICK},boston_kfold.seed={seed}")
        for seed in (0, 1)
    )
    assert first.keys() == second.keys()
    differing = {key for key in first if first[key] != second[key]}
    assert {"fold_0_loss", "fold_0_val_mae", "final_loss", "test_mae"} <= differing
