"""``kedro run`` with invalid parameters stops before anything runs: a clear message,
no MLflow run, no data loaded or written."""

from __future__ import annotations

import pytest

from tests.project import Project


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.with_boston_data(tmp_path_factory.mktemp("params"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("boston_kfold.training.epochs=0", "boston_kfold.training.epochs = 0"),
        (
            "boston_kfold.trainig.epochs=3",
            "boston_kfold.trainig: unknown parameter; did you mean 'training'?",
        ),
        # Shapes the graph: checked when the pipeline is built.
        (
            "boston_kfold.k=one",
            "boston_kfold.k = 'one': Input should be a valid integer",
        ),
        ("boston_kfld.k=3", "boston_kfld: unknown parameter section"),
        # A node parameter typed with its pydantic model: Kedro checks it.
        (
            "boston_kfold.columns.target=5",
            "Parameter 'boston_kfold.columns': Failed to instantiate Columns",
        ),
    ],
    ids=[
        "zero-epochs",
        "misspelled-key",
        "k-not-a-number",
        "misspelled-section",
        "typed-node-parameter",
    ],
)
def test_kedro_run_stops_before_anything_runs(project, params, message):
    _assert_stopped_before_anything_ran(project, "boston_kfold", params, message)
    written = [p for p in (project.path / "data").rglob("*") if p.is_file()]
    assert sorted(p.name for p in written) == ["SHA256SUMS", "boston_housing.npz"]


def test_parameters_of_other_pipelines_are_not_in_the_way(project):
    run = project.run_pipeline(
        "boston_kfold",
        "--params",
        "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2,"
        "imdb.load.num_words=2",
    )
    assert run.info.status == "FINISHED"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            "boston_kfold_tune.sampler.type=TPESampIer",
            "boston_kfold_tune.sampler.type is 'TPESampIer', not a class of "
            "optuna.samplers; did you mean 'TPESampler'?",
        ),
        # Shapes the graph (a search node per worker): read from conf/.
        (
            "boston_kfold_tune.workers=2",
            "Set workers: <value> under boston_kfold_tune: in "
            "conf/local/parameters_boston_kfold_tune.yml",
        ),
    ],
    ids=["unknown-sampler", "workers"],
)
def test_a_search_that_cannot_run_stops_before_anything_runs(project, params, message):
    _assert_stopped_before_anything_ran(project, "boston_kfold_tune", params, message)


def _assert_stopped_before_anything_ran(
    project: Project, pipeline: str, params: str, message: str
) -> None:
    """``kedro run --pipeline=<pipeline> --params <params>`` fails with ``message``,
    no traceback, no node run and no MLflow run."""
    done = project.kedro("run", f"--pipeline={pipeline}", "--params", params)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert message in output, output[-3000:]
    assert "Running node" not in output
    assert "Traceback" not in output
    assert project.runs(pipeline) == []
