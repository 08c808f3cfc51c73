"""Several ``kedro run`` at once on one project and one SQLite store: all are recorded;
worker processes logging the same dataset inputs at once all succeed."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from mlflow import MlflowClient

from tests.pipelines.boston_kfold.test_end_to_end import FINAL_METRICS, QUICK
from tests.project import Project


@pytest.mark.parametrize(
    ("store", "count"), [("new", 8), ("existing", 2)], ids=["new", "existing"]
)
def test_simultaneous_runs_all_finish_and_register_a_version(tmp_path, store, count):
    """Eight ``kedro run`` started at once on a new ``mlflow.db`` (each creating the
    store's tables, the experiment, the registered model), two on an existing one."""
    project = Project.with_boston_data(tmp_path)
    if store == "existing":
        project.mlflow().search_experiments()  # creates the schema
    assert (project.path / "mlflow.db").exists() == (store == "existing")

    names = tuple("abcdefgh"[:count])
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
    assert len(versions) == count


LOGGER = """
import sys
from pathlib import Path
from types import SimpleNamespace

import mlflow

from keras_classics.datasets.raw_dataset import LoadedFile
from keras_classics.run_tracking import log_dataset_inputs

uri, run_id, start_at = sys.argv[1:]
mlflow.set_tracking_uri(uri)
import time
time.sleep(max(0.0, float(start_at) - time.time()))  # all processes at once
for file in range(40):
    sha = f"{file:02d}" * 32
    raw = SimpleNamespace(loaded_files=[LoadedFile(Path(f"/data/f{file}.npz"), sha)])
    log_dataset_inputs(run_id, {"boston_housing_raw": raw})
"""


def test_workers_logging_the_same_raw_files_at_once_all_succeed(tmp_path):
    """A sweep's variants under a parallel runner read the same raw file at the same
    moment, each in its own process, and log it as the run's dataset input."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    run = client.create_run(client.create_experiment("sweep"))
    start_at = time.time() + 8  # after the processes have imported MLflow
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", LOGGER, uri, run.info.run_id, str(start_at)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 4, errors
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert sorted(i.dataset.digest for i in inputs) == [
        f"{file:02d}" * 8 for file in range(40)
    ]
