"""Benchmark: the grid against the search, on Boston (real data, the book's 4 folds of
100 epochs per trial).

- Quality: the best mean fold validation MAE after N trials of the grid -
  ``boston_kfold_sweep``'s 8 points, run through ``boston_kfold_tune`` with Optuna's
  ``GridSampler`` and no pruner, so that both score trials the same way - and of the
  search as shipped (``boston_kfold_tune``: TPE over its space, median pruner); median
  over ``--seeds`` (each a fresh study; a seed orders the grid, and seeds TPE).
- Speed: trials per minute of the search with one search worker (SequentialRunner)
  and with two (keras_classics.runner.ParallelRunner), from the study's own trial
  times (start of the first trial to end of the last: no start-up), taking turns.

    python benchmarks/search.py --mirror ../shared/datasets --seeds 3 --trials 8
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import optuna
import yaml
from harness import argument_parser, project_copy, timed

from keras_classics.sweeps import load
from keras_classics.tuning import study_storage

REPO = Path(__file__).resolve().parents[1]
PARALLEL = "keras_classics.runner.ParallelRunner"


def search(project: Path, env: dict, study: str, settings: dict, runner: str) -> list:
    """Run ``boston_kfold_tune`` as study ``study`` with ``settings`` (conf/local);
    the study's trials."""
    (project / "conf/local/parameters_boston_kfold_tune.yml").write_text(
        yaml.safe_dump({"boston_kfold_tune": {"study": study, **settings}})
    )
    timed(
        [
            sys.executable,
            "-m",
            "kedro",
            "run",
            "--pipeline=boston_kfold_tune",
            f"--runner={runner}",
        ],
        project,
        env,
    )
    storage = study_storage(f"sqlite:///{project / 'mlflow.db'}", "optuna")
    return optuna.load_study(study_name=study, storage=storage).trials


def best_after(trials: list, counts: list[int]) -> dict[int, float]:
    """The lowest value among the first N complete trials, per N."""
    values = [t.value if t.state.name == "COMPLETE" else None for t in trials]
    return {
        n: min(v for v in values[:n] if v is not None)
        for n in counts
        if n <= len(values) and any(v is not None for v in values[:n])
    }


def per_minute(trials: list) -> float:
    finished = [t for t in trials if t.datetime_complete is not None]
    span = max(t.datetime_complete for t in finished) - min(
        t.datetime_start for t in finished
    )
    return len(finished) / span.total_seconds() * 60


def grid_settings(seed: int) -> dict:
    """``boston_kfold_sweep``'s grid as a search: every point once, no pruning."""
    with (REPO / "conf/base/sweeps.yml").open() as file:
        sweep = load(yaml.safe_load(file))["boston_kfold_sweep"]
    base = yaml.safe_load(
        (REPO / "conf/base/parameters_boston_kfold_tune.yml").read_text()
    )
    return {
        "n_trials": len(sweep.overrides()),
        "sampler": {
            "type": "GridSampler",
            "search_space": {path: list(values) for path, values in sweep.grid.items()},
            "seed": seed,
            "n_startup_trials": None,  # the shipped TPESampler's arguments
            "constant_liar": None,
        },
        "pruner": {
            "type": "NopPruner",
            "n_startup_trials": None,
            "n_warmup_steps": None,
        },
        "space": {
            **{path: None for path in base["boston_kfold_tune"]["space"]},
            **{
                path: {"type": "categorical", "choices": list(values)}
                for path, values in sweep.grid.items()
            },
        },
    }


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=8, help="of each search")
    parser.add_argument("--speed-trials", type=int, default=6)
    arguments = parser.parse_args()
    counts = sorted({1, 2, 4, arguments.trials, 8})
    quality = {"grid (boston_kfold_sweep's 8 points)": [], "search (TPE, pruned)": []}
    speed: dict[str, list[float]] = {"1 worker": [], "2 workers": []}
    pruned = []
    with project_copy(arguments.mirror) as (project, env):
        for seed in range(arguments.seeds):
            grid = search(
                project, env, f"grid_{seed}", grid_settings(seed), "SequentialRunner"
            )
            quality["grid (boston_kfold_sweep's 8 points)"].append(
                best_after(grid, counts)
            )
            tpe = search(
                project,
                env,
                f"tpe_{seed}",
                {"n_trials": arguments.trials, "sampler": {"seed": seed}},
                "SequentialRunner",
            )
            quality["search (TPE, pruned)"].append(best_after(tpe, counts))
            pruned.append(sum(t.state.name == "PRUNED" for t in tpe))
        for repeat in range(arguments.seeds):
            order = [("1 worker", 1), ("2 workers", 2)]
            for label, workers in order if repeat % 2 == 0 else order[::-1]:
                found = search(
                    project,
                    env,
                    f"speed_{workers}_{repeat}",
                    {
                        "n_trials": arguments.speed_trials,
                        "workers": workers,
                        "sampler": {"seed": 100 + repeat},
                    },
                    PARALLEL if workers > 1 else "SequentialRunner",
                )
                speed[label].append(per_minute(found))

    print(
        f"\nBest mean fold validation MAE after N trials (median of {arguments.seeds} seeds)\n"
    )
    print("| trials | " + " | ".join(quality) + " |")
    print("|---:|" + "---:|" * len(quality))
    for n in counts:
        cells = []
        for runs in quality.values():
            values = [run[n] for run in runs if n in run]
            cells.append(f"{statistics.median(values):.3f}" if values else "-")
        print(f"| {n} | " + " | ".join(cells) + " |")
    print(f"\nPruned trials of the search: {pruned} (of {arguments.trials} per seed)")
    print(
        f"\nTrials per minute (median of {arguments.seeds}, {arguments.speed_trials} trials each)\n"
    )
    print("| search workers | trials per minute | speed-up |")
    print("|---|---:|---:|")
    one = statistics.median(speed["1 worker"])
    for label, values in speed.items():
        value = statistics.median(values)
        print(f"| {label} | {value:.2f} | {value / one:.2f}x |")


if __name__ == "__main__":
    main()
