"""``kedro run --runner=keras_classics.runner.DaskRunner`` for real: on a ``dask
scheduler`` with two ``dask worker`` processes, and on a LocalCluster of its own."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from distributed import Client

from tests.pipelines.boston_kfold.test_end_to_end import FINAL_METRICS, QUICK
from tests.project import Project, assert_console_for_people
from tests.servers import free_port, stop_group, wait_until

pytestmark = pytest.mark.e2e

RUNNER = "--runner=keras_classics.runner.DaskRunner"
WORKERS = 2


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.with_boston_data(tmp_path_factory.mktemp("boston"))


@pytest.fixture(scope="module")
def sequential_run(project):
    return project.run_pipeline("boston_kfold", "--params", QUICK)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, each in a folder
    of its own; yields the scheduler's address and the workers' logs."""
    with _cluster(tmp_path_factory.mktemp("dask")) as (address, workers):
        yield address, [log for _, log in workers]


@contextlib.contextmanager
def _cluster(folder: Path, scheduler_env: dict[str, str] | None = None):
    """The scheduler and ``WORKERS`` workers: the address, and each worker's process
    (its nanny's group) and log."""
    port = str(free_port())
    address = f"tcp://127.0.0.1:{port}"
    local = ("--host", "127.0.0.1", "--no-dashboard")
    started = []
    try:
        started.append(
            _start(
                folder / "scheduler",
                "scheduler",
                *local,
                "--port",
                port,
                env=scheduler_env,
            )
        )
        for i in range(WORKERS):
            started.append(
                _start(
                    folder / f"worker_{i}", "worker", address, *local, "--nthreads", "1"
                )
            )
        with Client(address, timeout=60) as client:
            client.wait_for_workers(WORKERS, timeout=120)
        yield (
            address,
            [
                (process, folder / f"worker_{i}" / "log")
                for i, process in enumerate(started[1:])
            ],
        )
    finally:
        for process in started:
            stop_group(process)


def _start(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """``dask <args>`` in ``folder``, logging to ``folder/log``."""
    folder.mkdir()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "KERAS_", "DASK_", "PYTEST_"))
    } | {"COLUMNS": "400", "TF_CPP_MIN_LOG_LEVEL": "2", "KEDRO_DISABLE_TELEMETRY": "1"}
    environment |= env or {}
    with (folder / "log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            cwd=folder,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kedro_run(
    project: Project, params: str = QUICK, env: dict[str, str] | None = None
):
    """``kedro run`` of boston_kfold with the DaskRunner: its process and new runs."""
    before = {run.info.run_id for run in project.runs("boston_kfold")}
    done = project.kedro(
        "run", "--pipeline=boston_kfold", RUNNER, "--params", params, env=env
    )
    return done, [
        r for r in project.runs("boston_kfold") if r.info.run_id not in before
    ]


def _processes_in(folder: Path) -> list[psutil.Process]:
    """Processes working in ``folder``, as the workers of a LocalCluster started there."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if Path(process.cwd()).is_relative_to(folder.resolve()):
                found.append(process)
    return found


def test_without_an_address_a_local_cluster_runs_the_pipeline_and_is_closed(
    project, sequential_run, monkeypatch
):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    done, (run,) = _kedro_run(project)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(
        rf"Started LocalCluster\(.* for this run: {WORKERS} workers", done.stdout
    )
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) == set(sequential_run.data.metrics)
    wait_until(
        lambda: not _processes_in(project.path), 10, "end of the LocalCluster's workers"
    )


def test_folds_run_on_every_worker_of_a_cluster_into_one_mlflow_run(
    project, sequential_run, cluster
):
    address, worker_logs = cluster
    run = project.run_pipeline(
        "boston_kfold",
        RUNNER,
        "--params",
        QUICK,
        env={"DASK_SCHEDULER_ADDRESS": address},
    )

    assert run.info.status == "FINISHED"
    # As readable as a sequential run's; the training progress is in the workers' logs.
    assert_console_for_people(project.console, run, "test_mae", progress=False)
    assert set(run.data.metrics) == set(sequential_run.data.metrics) >= FINAL_METRICS
    client = project.mlflow()
    for fold in range(4):
        for name in ("loss", "mae", "val_loss", "val_mae"):
            history = client.get_metric_history(run.info.run_id, f"fold_{fold}_{name}")
            assert sorted(m.step for m in history) == [1, 2, 3]
    assert client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    for log in worker_logs:  # Kedro's "Running node: train_fold: ... -> [<output>]"
        assert re.search(r"-> \[boston_kfold\.fold_\d_result\]", log.read_text())
    with Client(address) as dask:
        assert not dask.list_datasets(), "data left published on the cluster"


def test_a_failing_node_fails_the_run_and_its_mlflow_run_with_its_error(
    project, cluster
):
    address, _ = cluster
    diverging = QUICK + ",boston_kfold.model.compile.optimizer.learning_rate=1e6"
    done, (run,) = _kedro_run(
        project, diverging, env={"DASK_SCHEDULER_ADDRESS": address}
    )

    assert done.returncode != 0
    assert "Training diverged" in done.stdout + done.stderr
    assert run.info.status == "FAILED"


# A worker lost mid-run (SIGKILL to the `dask worker` process and its nanny, as a
# machine that goes away): Dask runs its task again on the other worker.

# Long enough folds (one sample per batch) that the worker is killed while it trains
# one, seconds after the data was handed out (Dask's Active Memory Manager would have
# dropped its copies by then: it runs every 2 s).
SLOW_EPOCHS = 600
SLOW_FOLDS = (
    f"boston_kfold.training.epochs={SLOW_EPOCHS},boston_kfold.training.batch_size=1,"
    "boston_kfold.final_epochs=2"
)
KILL_AFTER_SECONDS = 4
RUNNING_FOLD = re.compile(r"Running node: train_fold: .* -> \[(boston_kfold\.fold_\d)")


def _fold_done(fold: str) -> str:
    """The line a worker logs when ``boston_kfold.fold_<i>`` has trained."""
    return f"Fold {int(fold[-1]) + 1}/4: val_loss"


def _start_slow_folds(project: Project, address: str):
    return project.start(
        "run",
        "--pipeline=boston_kfold",
        RUNNER,
        "--params",
        SLOW_FOLDS,
        env={"DASK_SCHEDULER_ADDRESS": address},
    )


def _kill_a_worker_in_a_fold(workers) -> tuple[str, str]:
    """Wait until a worker runs a fold, SIGKILL it (with its nanny); the fold, and the
    log of the worker left."""

    def running_fold():
        for i, (_, log) in enumerate(workers):
            text = log.read_text()
            for fold in RUNNING_FOLD.findall(text)[::-1]:  # the latest first
                if _fold_done(fold) not in text:
                    return i, fold
        return None

    i, fold = wait_until(running_fold, 300, "a fold running on a worker")
    time.sleep(KILL_AFTER_SECONDS)
    assert _fold_done(fold) not in workers[i][1].read_text(), "fold ended before kill"
    os.killpg(workers[i][0].pid, signal.SIGKILL)
    workers[i][0].wait(timeout=10)
    return fold, workers[1 - i][1]


def test_a_worker_lost_mid_run_its_fold_runs_on_the_other_and_the_run_finishes(
    project, sequential_run, tmp_path
):
    before = {run.info.run_id for run in project.runs("boston_kfold")}
    with _cluster(tmp_path) as (address, workers):
        running = _start_slow_folds(project, address)
        fold, other_log = _kill_a_worker_in_a_fold(workers)
        assert running.finish(timeout=300) == 0, running.output[-3000:]
        # The lost fold ran again, on the worker left.
        assert f"-> [{fold}_result]" in other_log.read_text()

    (run,) = [r for r in project.runs("boston_kfold") if r.info.run_id not in before]
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) == set(sequential_run.data.metrics)
    key = f"{fold.removeprefix('boston_kfold.')}_val_mae"
    history = project.mlflow().get_metric_history(run.info.run_id, key)
    assert sorted(m.step for m in history) == list(range(1, SLOW_EPOCHS + 1))


def test_a_task_that_cannot_be_recovered_fails_the_run_naming_the_worker(
    project, tmp_path
):
    """Dask gives up on a task whose workers died ``allowed-failures`` times (here: at
    the first)."""
    no_retries = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    with _cluster(tmp_path, no_retries) as (address, workers):
        before = {run.info.run_id for run in project.runs("boston_kfold")}
        running = _start_slow_folds(project, address)
        _kill_a_worker_in_a_fold(workers)
        killed = [process for process, _ in workers if process.poll() is not None]
        assert running.finish(timeout=300) != 0
    (run,) = [r for r in project.runs("boston_kfold") if r.info.run_id not in before]
    assert run.info.status == "FAILED"
    assert len(killed) == 1
    (error,) = [
        line for line in running.output.splitlines() if line.startswith("Error: ")
    ]
    assert re.search(
        r"Dask worker tcp://127\.0\.0\.1:\d+ died while running node "
        r"boston_kfold\.fold_\d\.train_fold, and Dask gives up on it",
        error,
    ), error
