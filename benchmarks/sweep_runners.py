"""Benchmark: one sweep, ``boston_kfold_sweep`` (8 variants x 4 folds, the book's 100
epochs per fold and 80 for the final fit, real data), under each runner on this
machine: SequentialRunner; Kedro's ParallelRunner and keras_classics' (one process per
core each); the DaskRunner on a 2-worker LocalCluster started by each run, and on a
standing cluster (``dask scheduler`` and 2 ``dask worker`` processes started once, as
a team's cluster is, warmed by one untimed run).

Runners take turns, ``--repeats`` times each, in fresh processes. The table gives
median wall seconds of the whole command and of the pipeline's execution (Kedro's
"Pipeline execution completed in ..."; without start-up), and their speed-up over
SequentialRunner.

    python benchmarks/sweep_runners.py --repeats 3 --mirror ../shared/datasets
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client
from harness import alternate, argument_parser, medians, project_copy, timed
from mlflow import MlflowClient

DASK = "keras_classics.runner.DaskRunner"
WORKERS = 2
STANDING = f"{DASK} (standing cluster, {WORKERS} workers)"
RUNNERS = {
    "SequentialRunner": "SequentialRunner",
    "Kedro's ParallelRunner": "ParallelRunner",
    "keras_classics.runner.ParallelRunner": "keras_classics.runner.ParallelRunner",
    f"{DASK} (LocalCluster, {WORKERS} workers)": DASK,
    STANDING: DASK,
}
SWEEP = "boston_kfold_sweep"
EXECUTION = re.compile(r"Pipeline execution completed successfully in ([\d.]+) sec")


def run(project, env, runner: str) -> dict[str, float]:
    started = time.time()
    command = [sys.executable, "-m", "kedro", "run", f"--pipeline={SWEEP}"]
    wall, _, stdout = timed([*command, f"--runner={runner}"], project, env)
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(SWEEP)
    (sweep_run,) = [  # the sweep's run, not its nested ones
        run
        for run in client.search_runs(
            [experiment.experiment_id],
            f"attributes.start_time >= {int(started * 1000)}",
        )
        if "mlflow.parentRunId" not in run.data.tags
    ]
    return {
        "wall_seconds": wall,
        "execution_seconds": float(EXECUTION.findall(stdout)[-1]),
        "best_mean_fold_val_mae": sweep_run.data.metrics["best_mean_fold_val_mae"],
    }


@contextmanager
def standing_cluster(project: Path, env: dict[str, str]) -> Iterator[str]:
    """A ``dask scheduler`` and ``WORKERS`` ``dask worker`` processes on 127.0.0.1;
    yields the scheduler's address once one sweep has run on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    local = ["--host", "127.0.0.1", "--no-dashboard"]
    commands = [[*dask, "scheduler", *local, "--port", str(port)]] + [
        [*dask, "worker", address, *local, "--nthreads", "1"]
    ] * WORKERS
    processes = []
    try:
        for command in commands:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=project,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        with Client(address, timeout=60) as client:
            client.wait_for_workers(WORKERS, timeout=120)
        run(project, {**env, "DASK_SCHEDULER_ADDRESS": address}, DASK)  # warm-up
        yield address
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    args = argument_parser(__doc__).parse_args()
    with project_copy(args.mirror.resolve()) as (project, environment):
        # One log line per message, for the regex; LocalClusters unless told otherwise.
        env = {**environment, "COLUMNS": "400"}
        env.pop("DASK_SCHEDULER_ADDRESS", None)
        with standing_cluster(project, env) as address:
            envs = {name: env for name in RUNNERS}
            envs[STANDING] = {**env, "DASK_SCHEDULER_ADDRESS": address}
            results = alternate(
                {
                    name: lambda name=name, runner=runner: run(
                        project, envs[name], runner
                    )
                    for name, runner in RUNNERS.items()
                },
                args.repeats,
            )
    typical = medians(results)
    baseline = typical["SequentialRunner"]
    print(
        f"Medians of {args.repeats} alternating runs each, on {os.cpu_count()} cores; "
        f"{SWEEP}: 8 variants x 4 folds.\n"
    )
    print(
        "| runner | whole command, s | speed-up | pipeline execution, s | speed-up "
        "| best mean fold val MAE |"
    )
    print("|---|---|---|---|---|---|")
    for name, result in typical.items():
        print(
            f"| {name} | {result['wall_seconds']:.1f} "
            f"| {baseline['wall_seconds'] / result['wall_seconds']:.2f}x "
            f"| {result['execution_seconds']:.1f} "
            f"| {baseline['execution_seconds'] / result['execution_seconds']:.2f}x "
            f"| {result['best_mean_fold_val_mae']:.3f} |"
        )
    start_up = baseline["wall_seconds"] - baseline["execution_seconds"]
    cores = os.cpu_count() or 1
    bound = baseline["wall_seconds"] / (
        start_up + baseline["execution_seconds"] / cores
    )
    print(
        f"\nStart-up and shut-down (whole command - execution, SequentialRunner): "
        f"{start_up:.1f} s. With it, a runner {cores}x faster at execution would be "
        f"{bound:.2f}x faster on the whole command."
    )


if __name__ == "__main__":
    main()
