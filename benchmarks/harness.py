"""What the pipeline-against-plain-Keras benchmarks share.

A throwaway copy of the project (configuration and ``pyproject.toml``; the package is
the installed one), commands timed in fresh processes (wall seconds and peak RSS via
``os.wait4``), the metrics of the newest MLflow run of an experiment, alternating
repeats, and a Markdown table of medians.
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[1]
PIPELINE = "pipeline"
PLAIN = "plain Keras"

Result = dict[str, float]


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The benchmarks' shared options: ``--repeats``, and ``--mirror``, the folder of
    raw dataset files (as ``KERAS_CLASSICS_MIRROR``)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--mirror",
        type=Path,
        default=Path(
            os.environ.get("KERAS_CLASSICS_MIRROR", REPO.parent / "shared" / "datasets")
        ),
    )
    return parser


@contextmanager
def project_copy(mirror: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary project folder and the environment to run commands in it.

    The copy has the repository's ``conf/`` (with an empty ``conf/local``) and
    ``pyproject.toml``, so runs log into a fresh ``mlflow.db`` of their own.
    """
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
        yield project, env


def timed(
    command: Sequence[str], cwd: Path, env: dict[str, str], *, logs: bool = False
) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout (with ``logs``, stderr too) of one
    command."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if logs else subprocess.DEVNULL,
        text=True,
    )
    stdout = process.stdout.read()
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024, stdout


def newest_run_metrics(
    project: Path, experiment_name: str, *, since: float | None = None
) -> dict[str, float]:
    """The metrics of the newest run of ``experiment_name`` in ``project/mlflow.db``.

    With ``since`` (a ``time.time()``), a run started earlier is an error: the
    command that should have logged one did not.
    """
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(experiment_name)
    runs = (
        client.search_runs(
            [experiment.experiment_id], max_results=1, order_by=["start_time DESC"]
        )
        if experiment is not None
        else []
    )
    if not runs:
        sys.exit(f"no MLflow run in experiment {experiment_name!r}")
    (run,) = runs
    if since is not None and run.info.start_time < since * 1000 - 1000:
        sys.exit(f"no new MLflow run in experiment {experiment_name!r}")
    return dict(run.data.metrics)


def run_pipeline(
    project: Path, env: dict[str, str], pipeline: str, metrics: Sequence[str]
) -> Result:
    """``kedro run --pipeline=<pipeline>``: wall, peak RSS and the run's ``metrics``.

    The run is read from the MLflow experiment named after the pipeline.
    """
    started = time.time()
    wall, rss, _ = timed(
        [sys.executable, "-m", "kedro", "run", f"--pipeline={pipeline}"], project, env
    )
    logged = newest_run_metrics(project, pipeline, since=started)
    missing = [name for name in metrics if name not in logged]
    if missing:
        sys.exit(f"the {pipeline!r} run logged no metric {', '.join(missing)}")
    return {
        **{name: logged[name] for name in metrics},
        "wall_seconds": wall,
        "peak_rss_mib": rss,
    }


def run_plain(
    script: Path, project: Path, env: dict[str, str], *arguments: str
) -> Result:
    """A plain script printing one JSON line last: that line, wall and peak RSS."""
    wall, rss, stdout = timed([sys.executable, str(script), *arguments], project, env)
    result = json.loads(stdout.strip().splitlines()[-1])
    return {**result, "wall_seconds": wall, "peak_rss_mib": rss}


def alternate(
    runners: dict[str, Callable[[], Result]], repeats: int
) -> dict[str, list[Result]]:
    """Each runner ``repeats`` times, taking turns, the order reversed every repeat.

    Every result goes to stderr as it comes.
    """
    results: dict[str, list[Result]] = {name: [] for name in runners}
    for repeat in range(repeats):
        order = list(runners) if repeat % 2 == 0 else list(reversed(runners))
        for name in order:
            result = runners[name]()
            results[name].append(result)
            print(
                f"  run {repeat + 1} {name}: "
                + ", ".join(f"{k}={v:.2f}" for k, v in result.items()),
                file=sys.stderr,
            )
    return results


def medians(results: dict[str, list[Result]]) -> dict[str, Result]:
    """Per runner, the median of every key of its first result."""
    return {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in results.items()
    }


def ratio(pipeline: float, plain: float) -> str:
    """``plain / pipeline``, as ``2.3x``."""
    return f"{plain / pipeline:.1f}x"


def difference(pipeline: float, plain: float) -> str:
    """``pipeline - plain``, as ``+0.12 (difference)``."""
    return f"{pipeline - plain:+.2f} (difference)"


def points(pipeline: float, plain: float) -> str:
    """``pipeline - plain`` for fractions, in percentage points."""
    return f"{(pipeline - plain) * 100:+.1f} points"


@dataclass(frozen=True)
class Row:
    """One line of the table: a label, the result key, its format, the comparison."""

    label: str
    key: str
    fmt: str
    compare: Callable[[float, float], str] = ratio


def print_table(rows: Sequence[Row], medians: dict[str, Result], repeats: int) -> None:
    """The Markdown table of medians, with a comparison column for two sides."""
    if len(medians) > 1:
        print(
            f"Medians of {repeats} alternating runs each, on {os.cpu_count()} cores.\n"
        )
    else:
        print(f"Medians of {repeats} runs, on {os.cpu_count()} cores.\n")
    names = list(medians)
    both = PIPELINE in medians and PLAIN in medians
    header = ["measure", *names] + ["plain / pipeline"] * both
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row.label] + [row.fmt.format(medians[name][row.key]) for name in names]
        if both:
            cells.append(
                row.compare(medians[PIPELINE][row.key], medians[PLAIN][row.key])
            )
        print("| " + " | ".join(cells) + " |")
