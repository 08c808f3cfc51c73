"""Benchmark: one sweep, ``boston_kfold_sweep`` (8 variants x 4 folds, the book's 100
epochs per fold and 80 for the final fit, real data), under each runner on this
machine: SequentialRunner; Kedro's ParallelRunner and keras_classics' (one process per
core each); DaskRunner on a 2-worker LocalCluster started by the run.

Runners take turns, ``--repeats`` times each, in fresh processes. The table gives
median wall seconds of the whole command and of the pipeline's execution (Kedro's
"Pipeline execution completed in ..."; without start-up), and their speed-up over
SequentialRunner.

    python benchmarks/sweep_runners.py --repeats 3 --mirror ../shared/datasets
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from harness import alternate, medians, mirror_argument, project_copy, timed
from mlflow import MlflowClient

RUNNERS = {
    "SequentialRunner": "SequentialRunner",
    "Kedro's ParallelRunner": "ParallelRunner",
    "keras_classics.runner.ParallelRunner": "keras_classics.runner.ParallelRunner",
    "keras_classics.runner.DaskRunner (LocalCluster, 2 workers)": (
        "keras_classics.runner.DaskRunner"
    ),
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    mirror_argument(parser)
    args = parser.parse_args()
    with project_copy(args.mirror.resolve()) as (project, environment):
        # One log line per message, for the regex.
        env = {**environment, "COLUMNS": "400"}
        results = alternate(
            {
                name: lambda runner=runner: run(project, env, runner)
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
