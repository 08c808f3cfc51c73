"""Kedro commands that train nothing start without TensorFlow, Keras or scikit-learn;
``kedro --help`` without the project's pipelines and tracking too."""

from __future__ import annotations

import textwrap

import pytest

from tests.project import Project

HEAVY = ("tensorflow", "keras", "sklearn")
# Imported when a run needs them: the pipelines' modules (pandas, matplotlib), and the
# project's MLflow tracking. (kedro-mlflow's CLI plugin imports MLflow for every command.)
RUN_ONLY = ("matplotlib", "keras_classics.pipelines", "keras_classics.run_tracking")
# Kedro's own CLI entry point, reporting at exit which heavy modules were imported.
REPORTING = textwrap.dedent(
    f"""
    import atexit, sys
    atexit.register(
        lambda: print("IMPORTED", [m for m in {HEAVY + RUN_ONLY!r} if m in sys.modules])
    )
    from kedro.framework.cli.cli import main
    sys.argv = ["kedro", *sys.argv[1:]]
    main()
    """
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.copy_of_repo(tmp_path_factory.mktemp("startup"))


@pytest.mark.parametrize(
    ("command", "expected", "imported"),
    [
        (["--help"], "registry", []),
        (["registry", "list"], "boston_kfold_sweep", RUN_ONLY[:2]),
    ],
)
def test_a_command_that_trains_nothing_imports_no_tensorflow(
    project, command, expected, imported
):
    done = project.python("-c", REPORTING, *command)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert expected in done.stdout
    assert f"IMPORTED {list(imported)}" in done.stdout, done.stdout[-500:]


def test_kedro_viz_build_imports_no_tensorflow(project):
    """kedro-viz builds in a process of its own: Python's import log (inherited through
    ``PYTHONPROFILEIMPORTTIME``) shows what that one imported too."""
    done = project.kedro("viz", "build", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    # The pipelines were built (and the catalog: its model datasets, its MLflow ones).
    assert "keras_classics.pipelines" in imported
    assert imported & set(HEAVY) == set()


# As on Windows, for this project's modules: POSIX-only modules can't be imported.
# (Third-party packages pick their platform's modules themselves.)
WITHOUT_POSIX_ONLY_MODULES = textwrap.dedent(
    """
    import builtins, importlib, pkgutil, sys
    POSIX_ONLY = {"fcntl", "termios", "resource", "pwd", "grp", "posix"}
    real_import = builtins.__import__

    def windows_like_import(name, globals=None, *args, **kwargs):
        importer = (globals or {}).get("__name__", "")
        if importer.startswith("keras_classics") and name in POSIX_ONLY:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, globals, *args, **kwargs)

    builtins.__import__ = windows_like_import
    import keras_classics
    for module in pkgutil.walk_packages(keras_classics.__path__, "keras_classics."):
        importlib.import_module(module.name)
    from kedro.framework.cli.cli import main
    sys.argv = ["kedro", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.e2e
def test_the_project_imports_and_runs_without_posix_only_modules(tmp_path):
    project = Project.with_boston_data(tmp_path)
    done = project.python(
        "-c",
        WITHOUT_POSIX_ONLY_MODULES,
        "run",
        "--pipeline=boston_kfold",
        "--params",
        "boston_kfold.training.epochs=2,boston_kfold.final_epochs=2",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (run,) = project.runs("boston_kfold")
    assert run.info.status == "FINISHED"
    assert "test_mae" in run.data.metrics
