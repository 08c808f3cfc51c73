"""``kedro run --env=team`` against a team's ``mlflow server``: a PostgreSQL backend
store, artifacts uploaded through the server to its ``--artifacts-destination``."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from kedro.config import OmegaConfigLoader
from mlflow import MlflowClient

from keras_classics.settings import CONFIG_LOADER_ARGS
from tests.pipelines.boston_kfold.test_end_to_end import FINAL_METRICS, QUICK
from tests.project import REPO, Project
from tests.servers import free_port, mlflow_server, wait_until

ROOT = os.geteuid() == 0
# PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
AS_OWNER = ["runuser", "-u", "postgres", "--"] if ROOT else []


def find_postgres() -> Path | None:
    """The folder of PostgreSQL's server binaries (Debian's are not on PATH)."""
    found = shutil.which("pg_ctl") or max(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), default=None
    )
    return Path(found).resolve().parent if found else None


def postgres_bin() -> Path:
    """``find_postgres()``, after installing Debian's package if needed (as .ci/run
    does); skips the test when it is missing and cannot be installed."""
    if find_postgres() is None and ROOT and shutil.which("apt-get"):
        for command in ("update", "install -y postgresql"):
            subprocess.run(
                ["apt-get", "-qq", *command.split()],
                env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"},
                capture_output=True,
                timeout=600,
                check=False,
            )
    found = find_postgres()
    if found is None:
        pytest.skip("needs PostgreSQL (Debian's postgresql package): not installable")
    return found


def as_owner(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*AS_OWNER, *map(str, command)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A throwaway cluster on 127.0.0.1 and a free port, with a ``mlflow`` user and
    database; yields the database's URI."""
    bin_dir = postgres_bin()
    # Not under pytest's tmp folder, which only root may enter.
    folder = Path(tempfile.mkdtemp(prefix="keras_classics_pg_"))
    if ROOT:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    try:
        done = as_owner(
            bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        done = as_owner(
            bin_dir / "pg_ctl", "-D", data, "-l", folder / "postgres.log", "-w",
            "-o", f"-h 127.0.0.1 -p {port} -k {folder} -F", "start",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", autocommit=True
        ) as admin:
            admin.execute("CREATE USER mlflow")
            admin.execute("CREATE DATABASE mlflow OWNER mlflow")
        yield f"postgresql://mlflow@127.0.0.1:{port}/mlflow"
    finally:
        pid_file = data / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        stopped = as_owner(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "stop")
        if pid and stopped.returncode != 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """``mlflow server`` on ``postgres``, serving artifacts from a folder of its own;
    yields its URL and that folder."""
    folder = tmp_path_factory.mktemp("mlflow_server")
    artifacts = folder / "artifacts"
    with mlflow_server(
        folder, postgres, "--serve-artifacts", "--artifacts-destination", str(artifacts)
    ) as url:
        yield url, artifacts


@pytest.fixture(scope="module")
def team_run(server, tmp_path_factory):
    url, _ = server
    project = Project.with_boston_data(tmp_path_factory.mktemp("team"))
    done = project.kedro(
        "run",
        "--env=team",
        "--pipeline=boston_kfold",
        "--params",
        QUICK,
        env={"MLFLOW_TRACKING_URI": url},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("boston_kfold")
    (run,) = client.search_runs([experiment.experiment_id])
    return project, client, run


def test_team_env_points_at_a_server_and_keeps_base_settings(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    loader = OmegaConfigLoader(str(REPO / "conf"), env="team", **CONFIG_LOADER_ARGS)
    mlflow_yml = loader["mlflow"]
    assert mlflow_yml["server"]["mlflow_tracking_uri"] == "http://127.0.0.1:5000"
    assert mlflow_yml["tracking"]["params"]["dict_params"]["flatten"] is True


@pytest.mark.e2e
def test_the_run_is_finished_on_the_server_with_metrics_params_and_model(team_run):
    project, client, run = team_run
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) >= FINAL_METRICS
    (given,) = run.inputs.dataset_inputs  # the raw file, with its sha256
    npz = project.raw / "boston_housing.npz"
    assert given.dataset.digest == hashlib.sha256(npz.read_bytes()).hexdigest()[:16]
    params = run.data.params
    assert params["boston_kfold.k"] == "4"
    assert params["boston_kfold.training.epochs"] == "3"
    assert params["boston_kfold.final_epochs"] == "2"
    (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert version.name == "boston_kfold"
    assert float(version.tags["test_mae"]) == run.data.metrics["test_mae"]
    for local_store in ("mlflow.db", "mlruns", "mlartifacts"):
        assert not (project.path / local_store).exists(), local_store


@pytest.mark.e2e
def test_the_run_is_stored_in_postgresql(team_run, postgres):
    _, _, run = team_run
    with psycopg.connect(postgres) as database:
        runs = database.execute(
            "SELECT runs.status, experiments.name FROM runs JOIN experiments"
            " USING (experiment_id) WHERE run_uuid = %s",
            (run.info.run_id,),
        )
        assert runs.fetchall() == [("FINISHED", "boston_kfold")]
        versions = database.execute(
            "SELECT name FROM model_versions WHERE run_id = %s", (run.info.run_id,)
        )
        assert versions.fetchall() == [("boston_kfold",)]


@pytest.mark.e2e
def test_artifacts_are_uploaded_to_the_servers_destination(team_run, server):
    _, artifacts = server
    _, client, run = team_run
    served = "mlflow-artifacts:/"
    assert run.info.artifact_uri.startswith(served)
    run_folder = artifacts / run.info.artifact_uri.removeprefix(served)
    assert {"metrics.json", "validation_mae.png"} <= {
        path.name for path in run_folder.iterdir()
    }
    (model,) = client.search_logged_models(
        [run.info.experiment_id], f"source_run_id = '{run.info.run_id}'"
    )
    model_folder = artifacts / model.artifact_location.removeprefix(served)
    assert (model_folder / "MLmodel").is_file()


# The server restarted in the middle of a run: MLflow retries each request with
# back-off (MLFLOW_HTTP_REQUEST_MAX_RETRIES, ..._BACKOFF_FACTOR: about 4 minutes).

EPOCHS = 3


def _start_team_run(project: Project, url: str, env: dict[str, str] | None = None):
    return project.start(
        "run",
        "--env=team",
        "--pipeline=boston_kfold",
        "--params",
        QUICK,
        env={"MLFLOW_TRACKING_URI": url, **(env or {})},
    )


def _run_started(url: str):
    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("boston_kfold")
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    return runs[0] if len(runs) == 1 else None


@pytest.mark.e2e
def test_logging_resumes_when_the_server_is_back_and_nothing_logged_is_lost(
    postgres, tmp_path
):
    port = free_port()
    # A database of its own, so that this run is the experiment's only one.
    database = _new_database(postgres, "restarted")
    project = Project.with_boston_data(tmp_path / "project")
    (tmp_path / "server").mkdir()
    with mlflow_server(tmp_path / "server", database, port=port) as url:
        running = _start_team_run(project, url)
        started = wait_until(
            lambda: _run_started(url), 300, "the run on the server", _alive(running)
        )
    # Down: the run's next request fails, and MLflow retries it.
    running.wait_for("Retrying (Retry(", timeout=300)
    with mlflow_server(tmp_path / "server", database, port=port) as url:
        assert running.finish(timeout=600) == 0, running.output[-3000:]
        client = MlflowClient(url)
        run = client.get_run(started.info.run_id)
        assert run.info.status == "FINISHED"
        assert set(run.data.metrics) >= FINAL_METRICS
        for fold in range(4):
            for key in ("loss", "val_mae"):
                history = client.get_metric_history(
                    run.info.run_id, f"fold_{fold}_{key}"
                )
                assert sorted(m.step for m in history) == list(range(1, EPOCHS + 1))
        (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
        assert version.name == "boston_kfold"


@pytest.mark.e2e
def test_a_server_that_stays_away_fails_the_run_clearly(postgres, tmp_path):
    database = _new_database(postgres, "gone")
    project = Project.with_boston_data(tmp_path / "project")
    (tmp_path / "server").mkdir()
    # MLflow's retries shortened, as a user may set them, to keep the test short.
    short_retries = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    }
    with mlflow_server(tmp_path / "server", database) as url:
        running = _start_team_run(project, url, short_retries)
        wait_until(
            lambda: _run_started(url), 300, "the run on the server", _alive(running)
        )
    assert running.finish(timeout=300) != 0
    (error,) = [
        line for line in running.output.splitlines() if line.startswith("Error: ")
    ]
    assert error.startswith(
        f"Error: The MLflow tracking server {url} stopped answering during the run, "
        "and MLflow's retries ran out (MLFLOW_HTTP_REQUEST_MAX_RETRIES=2, "
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=1)."
    )
    assert "Traceback" not in running.output


def _alive(running):
    return lambda: running.process.poll() is None


def _new_database(postgres: str, name: str) -> str:
    """A new database of the ``postgres`` cluster, owned by its ``mlflow`` user; its
    URI."""
    server = postgres.removeprefix("postgresql://mlflow@").split("/")[0]
    admin = f"postgresql://postgres@{server}/postgres"
    with psycopg.connect(admin, autocommit=True) as database:
        database.execute(f"CREATE DATABASE {name} OWNER mlflow")
    return f"postgresql://mlflow@{server}/{name}"


@pytest.mark.e2e
def test_a_team_search_keeps_its_study_beside_the_servers_tables(
    server, postgres, tmp_path
):
    url, _ = server
    project = Project.with_boston_data(tmp_path)
    (project.path / "conf/team/parameters_boston_kfold_tune.yml").write_text(
        "boston_kfold_tune:\n"
        "  n_trials: 2\n"
        "  space:\n"
        "    training.batch_size: {type: categorical, choices: [8, 12]}\n"
    )
    done = project.kedro(
        "run",
        "--env=team",
        "--pipeline=boston_kfold_tune",
        "--params",
        "boston_kfold.training.epochs=3",
        env={"MLFLOW_TRACKING_URI": url, "KERAS_CLASSICS_STUDY_STORAGE": postgres},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("boston_kfold_tune")
    runs = client.search_runs([experiment.experiment_id])
    (search,) = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert search.info.status == "FINISHED"
    assert sorted(run.info.run_name for run in runs if run is not search) == [
        "trial 0",
        "trial 1",
    ]
    with psycopg.connect(postgres) as database:
        # The study in the server's database, in a schema of its own: each of
        # MLflow and Optuna keeps its own schema version (alembic_version).
        states = database.execute(
            "SELECT state FROM optuna.trials JOIN optuna.studies USING (study_id)"
            " WHERE study_name = 'boston_kfold_tune'"
        )
        assert [state for (state,) in states.fetchall()] == ["COMPLETE", "COMPLETE"]
        (optuna_version,) = database.execute(
            "SELECT version_num FROM optuna.alembic_version"
        ).fetchone()
        (mlflow_version,) = database.execute(
            "SELECT version_num FROM public.alembic_version"
        ).fetchone()
        assert optuna_version != mlflow_version
    assert (project.path / "data/08_reporting/boston_kfold_tune/trials.csv").is_file()
    assert not (project.path / "mlflow.db").exists()


def test_a_team_search_without_a_study_database_says_what_to_set(server, tmp_path):
    url, _ = server
    project = Project.with_boston_data(tmp_path)
    done = project.kedro(
        "run",
        "--env=team",
        "--pipeline=boston_kfold_tune",
        env={"MLFLOW_TRACKING_URI": url},
    )
    assert done.returncode != 0
    assert "set KERAS_CLASSICS_STUDY_STORAGE" in done.stdout + done.stderr
