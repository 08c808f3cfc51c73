"""Two ``kedro run`` at once on one project and one SQLite store: both are recorded."""

from __future__ import annotations

import pytest

from tests.pipelines.boston_kfold.test_end_to_end import FINAL_METRICS, QUICK
from tests.project import Project


@pytest.mark.parametrize("store", ["new", "existing"])
def test_two_simultaneous_runs_both_finish_and_register_a_version(tmp_path, store):
    project = Project.with_boston_data(tmp_path)
    if store == "existing":
        project.mlflow().search_experiments()  # creates the schema
    assert (project.path / "mlflow.db").exists() == (store == "existing")

    names = ("a", "b")
    started = [
        project.start(
            "run",
            "--pipeline=boston_kfold",
            "--params",
            f"{QUICK},boston_kfold.seed={seed},run_name={name}",
        )
        for seed, name in enumerate(names)
    ]
    for running in started:
        assert running.finish(timeout=900) == 0, running.output[-3000:]

    runs = {run.info.run_name: run for run in project.runs("boston_kfold")}
    assert set(runs) == set(names)
    client = project.mlflow()
    versions = set()
    for run in runs.values():
        assert run.info.status == "FINISHED"
        assert set(run.data.metrics) >= FINAL_METRICS
        (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
        assert version.name == "boston_kfold"
        versions.add(version.version)
    assert len(versions) == 2
