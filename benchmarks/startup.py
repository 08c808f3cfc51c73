"""How fast Kedro commands start, against importing TensorFlow alone.

    python benchmarks/startup.py --repeats 5 --mirror ../shared/datasets

Each command runs in a fresh process in a throwaway copy of the project, the commands
taking turns; the table gives medians, and each against ``python -c "import
tensorflow"`` measured in the same run. ``kedro run --pipeline=boston_kfold`` (real
data) is split into its pipeline execution (Kedro's "Pipeline execution completed
... in N sec.") and the rest: start-up and shut-down.
"""

from __future__ import annotations

import re
import sys

from harness import alternate, argument_parser, medians, project_copy, timed

EXECUTION = re.compile(r"Pipeline execution completed successfully in ([\d.]+) sec")


def main() -> None:
    args = argument_parser(__doc__).parse_args()
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


if __name__ == "__main__":
    main()
