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
from tests.synthetic import sha256, write_boston_npz

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


def _project(path: Path) -> Project:
    project = Project.copy_of_repo(path)
    npz = project.raw / "boston_housing.npz"
    write_boston_npz(npz)
    (project.raw / "SHA256SUMS").write_text(f"{sha256(npz)}  boston_housing.npz\n")
    return project


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """A project after one complete run; each test leaves its outputs whole and no
    partial file."""
    project = _project(tmp_path_factory.mktemp("atomic_outputs"))
    project.run_pipeline("boston_kfold", "--params", QUICK)
    return project


def _kill_a_run_saving(project: Project, target: str, moment: str) -> None:
    """A run with another seed (other outputs), killed while saving ``target``."""
    done = project.python(
        "-c",
        KILL_DURING_SAVE,
        "run",
        "--pipeline=boston_kfold",
        "--params",
        f"{QUICK},boston_kfold.seed=1",
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
    ("target", "moment"),
    [
        ("model.keras", "write"),
        ("model.keras", "rename"),
        ("fold_scores.csv", "rename"),
        ("validation_mae.png", "write"),
        ("validation_mae.png", "rename"),
    ],
)
def test_run_killed_while_saving_keeps_the_previous_output_whole(
    project, target, moment
):
    path = project.path / TARGETS[target]
    before = _outputs(project)

    _kill_a_run_saving(project, target, moment)

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
    project = _project(tmp_path)
    model = project.path / TARGETS["model.keras"]

    _kill_a_run_saving(project, "model.keras", "write")

    assert not model.exists()
    (partial,) = _partials(project)
    assert partial.parent == model.parent
    outputs = _outputs(project)
    assert outputs  # the nodes before it saved theirs
    for output in outputs:
        _assert_whole(output)

    _assert_a_run_completes_and_cleans_up(project)
