"""How fast Kedro commands start, against importing TensorFlow alone.

    python benchmarks/startup.py --repeats 5 --mirror ../shared/datasets

Each command runs in a fresh process in a throwaway copy of the project, the commands
taking turns; the table gives medians, and each against ``python -c "import
tensorflow"`` measured in the same run. ``kedro run --pipeline=boston_kfold`` (real
data) is split into its pipeline execution (Kedro's "Pipeline execution completed
... in N sec.") and the rest: start-up and shut-down.

``--costs`` then profiles one more such run (cProfile: every figure inflated by the
profiler, the shares hold) and prints what its parts cost besides training: Kedro's
start, kedro-mlflow's store set-up, building the pipelines, importing Keras, logging
the model to MLflow (its pip-requirements check, its signature), registering it.
"""

from __future__ import annotations

import pstats
import re
import subprocess
import sys
from pathlib import Path

from harness import alternate, argument_parser, medians, project_copy, timed

EXECUTION = re.compile(r"Pipeline execution completed successfully in ([\d.]+) sec")
# (part, file the function is in, function): cumulative seconds in a profiled run.
COSTS = [
    ("the whole command", "kedro/framework/cli/cli.py", "main"),
    ("the session's run (all but Kedro's start)", "session/session.py", "run"),
    ("kedro-mlflow's store set-up", "kedro_mlflow_config.py", "setup"),
    (
        "pipelines built from conf/",
        "keras_classics/pipeline_registry.py",
        "register_pipelines",
    ),
    (
        "parameter checks, with Keras' import",
        "keras_classics/hooks.py",
        "before_pipeline_run",
    ),
    ("  importing Keras (TensorFlow)", "keras/__init__.py", "<module>"),
    ("pipeline execution", "kedro/runner/runner.py", "run"),
    ("  training (every fit)", "keras_classics/core/training.py", "timed_fit"),
    (
        "  logging the model to MLflow",
        "keras_classics/core/predictor.py",
        "log_model",
    ),
    (
        "    MLflow's check of the given requirements",
        "requirements_utils.py",
        "warn_dependency_requirement_mismatches",
    ),
    (
        "    MLflow's signature inference",
        "mlflow/models/signature.py",
        "infer_signature",
    ),
    ("  registering the model version", "_model_registry/fluent.py", "_register_model"),
    ("results summary, version tags", "keras_classics/hooks.py", "after_pipeline_run"),
]


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--costs", action="store_true", help="profile one run too")
    args = parser.parse_args()
    with project_copy(args.mirror) as (project, env):
        kedro = [sys.executable, "-m", "kedro"]

        def command(*argv: str):
            def run() -> dict[str, float]:
                wall, _, _ = timed(argv, project, env)
                return {"wall": wall}

            return run

        def boston() -> dict[str, float]:
            wall, _, out = timed(
                [*kedro, "run", "--pipeline=boston_kfold"],
                project,
                env | {"COLUMNS": "200"},  # one log line, not wrapped
                logs=True,
            )
            found = EXECUTION.search(out)
            execution = float(found.group(1)) if found else float("nan")
            return {"wall": wall, "execution": execution, "rest": wall - execution}

        results = medians(
            alternate(
                {
                    'python -c "import tensorflow"': command(
                        sys.executable, "-c", "import tensorflow"
                    ),
                    "kedro --help": command(*kedro, "--help"),
                    "kedro registry list": command(*kedro, "registry", "list"),
                    "kedro viz build": command(*kedro, "viz", "build"),
                    "kedro run --pipeline=boston_kfold": boston,
                },
                args.repeats,
            )
        )
        parts = costs(project, env) if args.costs else []
    baseline = results['python -c "import tensorflow"']["wall"]
    print("| command | wall s (median) | / import tensorflow |")
    print("|---|---|---|")
    for name, result in results.items():
        print(f"| {name} | {result['wall']:.2f} | {result['wall'] / baseline:.2f} |")
    run = results["kedro run --pipeline=boston_kfold"]
    print(
        f"\nkedro run --pipeline=boston_kfold: execution {run['execution']:.2f} s, "
        f"start-up and shut-down {run['rest']:.2f} s."
    )
    if parts:
        print("\n" + "\n".join(parts))


def costs(project: Path, env: dict[str, str]) -> list[str]:
    """Profile one ``kedro run --pipeline=boston_kfold``: ``COSTS`` as table rows."""
    profile = project / "boston.prof"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "kedro", "run"]
        + ["--pipeline=boston_kfold"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )
    stats = pstats.Stats(str(profile)).stats  # (file, line, function) -> figures
    rows = ["| part of a profiled boston_kfold run | cumulative s |", "|---|---|"]
    for part, filename, function in COSTS:
        seconds = max(
            (
                figures[3]
                for (file, _, name), figures in stats.items()
                if name == function and file.replace("\\", "/").endswith(filename)
            ),
            default=float("nan"),
        )
        rows.append(f"| {part} | {seconds:.2f} |")
    return rows


if __name__ == "__main__":
    main()
