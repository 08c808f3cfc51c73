"""Benchmark: ``kedro run --pipeline=boston_kfold`` against the book's plain-Keras script.

Both do the same work on the same data (4-fold validation, 100 epochs at batch 16 with
per-epoch validation, then 80 epochs on all training data). They run alternately,
``--repeats`` times each, in fresh processes; the table gives medians and ratios.

    python benchmarks/boston_kfold.py --repeats 5 --mirror ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[1]


def timed(
    command: list[str], cwd: Path, env: dict[str, str]
) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024, stdout


def run_pipeline(project: Path, env: dict[str, str]) -> dict[str, float]:
    wall, rss, _ = timed(
        [sys.executable, "-m", "kedro", "run", "--pipeline=boston_kfold"], project, env
    )
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("boston_kfold")
    (run,) = client.search_runs(
        [experiment.experiment_id], max_results=1, order_by=["start_time DESC"]
    )
    metrics = run.data.metrics
    return {
        "training_seconds": metrics["training_seconds"],
        "wall_seconds": wall,
        "peak_rss_mib": rss,
        "mean_fold_val_mae": metrics["mean_fold_val_mae"],
        "test_mae": metrics["test_mae"],
    }


def run_plain(project: Path, env: dict[str, str], data: Path) -> dict[str, float]:
    script = REPO / "benchmarks" / "plain_keras_boston.py"
    wall, rss, stdout = timed([sys.executable, str(script), str(data)], project, env)
    result = json.loads(stdout.strip().splitlines()[-1])
    return {**result, "wall_seconds": wall, "peak_rss_mib": rss}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--mirror",
        type=Path,
        default=Path(
            os.environ.get("KERAS_CLASSICS_MIRROR", REPO.parent / "shared" / "datasets")
        ),
    )
    args = parser.parse_args()
    mirror = args.mirror.resolve()
    data = mirror / "boston_housing.npz"

    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        shutil.copytree(
            REPO / "conf", project / "conf", ignore=shutil.ignore_patterns("local")
        )
        (project / "conf" / "local").mkdir()
        shutil.copy(REPO / "pyproject.toml", project)
        # Kedro wants a source folder; the package itself is the installed one.
        (project / "src").mkdir()
        env = {
            **os.environ,
            "KERAS_CLASSICS_MIRROR": str(mirror),
            "KEDRO_DISABLE_TELEMETRY": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }

        results: dict[str, list[dict[str, float]]] = {"pipeline": [], "plain Keras": []}
        for repeat in range(args.repeats):
            order = (
                ["pipeline", "plain Keras"]
                if repeat % 2 == 0
                else ["plain Keras", "pipeline"]
            )
            for name in order:
                result = (
                    run_pipeline(project, env)
                    if name == "pipeline"
                    else run_plain(project, env, data)
                )
                results[name].append(result)
                print(
                    f"  run {repeat + 1} {name}: "
                    + ", ".join(f"{k}={v:.2f}" for k, v in result.items()),
                    file=sys.stderr,
                )

    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in results.items()
    }
    ours, plain = medians["pipeline"], medians["plain Keras"]
    rows = [
        ("training seconds (k-fold + final fit)", "training_seconds", "{:.1f}"),
        ("whole command, wall seconds", "wall_seconds", "{:.1f}"),
        ("peak RSS, MiB", "peak_rss_mib", "{:.0f}"),
        ("mean fold validation MAE", "mean_fold_val_mae", "{:.2f}"),
        ("test MAE", "test_mae", "{:.2f}"),
    ]
    print(
        f"Medians of {args.repeats} alternating runs each, on {os.cpu_count()} cores.\n"
    )
    print("| measure | pipeline | plain Keras | plain / pipeline |")
    print("|---|---|---|---|")
    for label, key, fmt in rows:
        ratio = (
            f"{plain[key] / ours[key]:.1f}x"
            if "seconds" in key or "rss" in key
            else f"{ours[key] - plain[key]:+.2f} (difference)"
        )
        print(
            f"| {label} | {fmt.format(ours[key])} | {fmt.format(plain[key])} | {ratio} |"
        )


if __name__ == "__main__":
    main()
