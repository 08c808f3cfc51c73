"""A real ``kedro run`` killed with SIGKILL while saving: outputs stay whole.

The run is killed deterministically by a Python audit hook, at one of two moments of
the save of one target (named by ``KILL_TARGET``):

- ``write``: its partial file has just been created, nothing written yet (the
  ``open`` event fires before the file exists, so the kill comes at the first Python
  call once it does);
- ``rename``: its partial file is complete, but not yet renamed onto the target
  (the ``os.rename`` event, which ``os.replace`` raises).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pandas as pd
import pytest

from tests.pipelines.boston_kfold.test_end_to_end import QUICK as THREE_EPOCHS
from tests.project import Project
from tests.synthetic import sha256

KILL_DURING_SAVE = """
import os, signal, sys

moment, name = os.environ["KILL_AT"], os.environ["KILL_TARGET"]
stem, suffix = os.path.splitext(name)


def is_partial(path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        return False
    base = os.path.basename(os.fsdecode(path))
    return base.startswith(f".{stem}.") and base.endswith(f".partial{suffix}")


def kill(*_):
    os.kill(os.getpid(), signal.SIGKILL)


def hook(event, args):
    if moment == "rename" and event == "os.rename" and is_partial(args[0]):
        kill()
    if (
        moment == "write"
        and event == "open"
        and is_partial(args[0])
        and args[2] & (os.O_WRONLY | os.O_RDWR)
    ):
        sys.setprofile(lambda *_: os.path.exists(args[0]) and kill())


sys.addaudithook(hook)
from kedro.framework.cli import main

main()
"""

# Every epoch in the plot, so that runs with other seeds draw other PNGs.
QUICK = f"{THREE_EPOCHS},boston_kfold.curve.skip_epochs=0"
OUTPUTS = Path("data/06_models/boston_kfold"), Path("data/08_reporting/boston_kfold")
TARGETS = {
    "model.keras": OUTPUTS[0] / "model.keras",
    "fold_scores.csv": OUTPUTS[1] / "fold_scores.csv",
    "validation_mae.png": OUTPUTS[1] / "validation_mae.png",
}
PNG_END = b"IEND\xaeB`\x82"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """A project after one complete run; each test leaves its outputs whole and no
    partial file."""
    project = Project.with_boston_data(tmp_path_factory.mktemp("atomic_outputs"))
    project.run_pipeline("boston_kfold", "--params", QUICK)
    return project


def _kill_a_run_saving(project: Project, target: str, moment: str, seed: int) -> None:
    """A run with another ``seed`` than the outputs' (other outputs), killed while
    saving ``target``."""
    done = project.python(
        "-c",
        KILL_DURING_SAVE,
        "run",
        "--pipeline=boston_kfold",
        "--params",
        f"{QUICK},boston_kfold.seed={seed}",
        env={"KILL_AT": moment, "KILL_TARGET": target},
    )
    assert done.returncode == -signal.SIGKILL, done.stdout[-3000:] + done.stderr[-3000:]


def _outputs(project: Project) -> dict[Path, str]:
    """The pipeline's output files (not raw data, not partial files) by sha256."""
    return {
        path: sha256(path)
        for path in (project.path / "data").rglob("*")
        if path.is_file() and "01_raw" not in path.parts and path.name[0] != "."
    }


def _partials(project: Project) -> list[Path]:
    return sorted((project.path / "data").rglob("*.partial*"))


def _assert_whole(path: Path) -> None:
    """Read ``path`` in full in its format: a truncated file fails."""
    match path.suffix:
        case ".csv":
            assert path.read_bytes().endswith(b"\n")
            pd.read_csv(path)
        case ".parquet":
            pd.read_parquet(path)
        case ".json":
            json.loads(path.read_text())
        case ".png":
            assert path.read_bytes().endswith(PNG_END)
        case ".keras":
            import keras  # noqa: PLC0415  (slow import, only here)

            keras.saving.load_model(path, safe_mode=True)
        case _:
            raise AssertionError(f"unexpected output {path}")


def _assert_a_run_completes_and_cleans_up(project: Project) -> None:
    project.run_pipeline("boston_kfold", "--params", QUICK)
    assert _partials(project) == []
    for target in TARGETS.values():
        assert (project.path / target).is_file()
    for output in _outputs(project):
        _assert_whole(output)


@pytest.mark.parametrize(
    ("target", "moment", "seed"),
    [
        # A seed of its own each: earlier killed runs saved outputs of theirs.
        pytest.param("model.keras", "write", 1, id="model.keras-write"),
        pytest.param("model.keras", "rename", 2, id="model.keras-rename"),
        pytest.param("fold_scores.csv", "rename", 3, id="fold_scores.csv-rename"),
        pytest.param("validation_mae.png", "write", 4, id="validation_mae.png-write"),
        pytest.param("validation_mae.png", "rename", 5, id="validation_mae.png-rename"),
    ],
)
def test_run_killed_while_saving_keeps_the_previous_output_whole(
    project, target, moment, seed
):
    path = project.path / TARGETS[target]
    before = _outputs(project)

    _kill_a_run_saving(project, target, moment, seed)

    assert sha256(path) == before[path]
    (partial,) = _partials(project)
    assert partial.parent == path.parent
    assert partial.name.startswith(f".{path.stem}.")
    if moment == "rename":
        _assert_whole(partial)
        assert sha256(partial) != before[path]
    else:
        assert partial.stat().st_size < path.stat().st_size
    for output in _outputs(project):
        _assert_whole(output)
    # The next run's save of the target removes it (the test below checks it).
    partial.unlink()


def test_first_run_killed_while_saving_the_model_leaves_no_model(tmp_path):
    project = Project.with_boston_data(tmp_path)
    model = project.path / TARGETS["model.keras"]

    _kill_a_run_saving(project, "model.keras", "write", seed=1)

    assert not model.exists()
    (partial,) = _partials(project)
    assert partial.parent == model.parent
    outputs = _outputs(project)
    assert outputs  # the nodes before it saved theirs
    for output in outputs:
        _assert_whole(output)

    _assert_a_run_completes_and_cleans_up(project)
