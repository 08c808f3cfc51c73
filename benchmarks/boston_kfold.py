"""Benchmark: ``kedro run --pipeline=boston_kfold`` against the book's plain-Keras script.

Both do the same work on the same data (4-fold validation, 100 epochs at batch 16 with
per-epoch validation, then 80 epochs on all training data). They run alternately,
``--repeats`` times each, in fresh processes; the table gives medians and ratios.

    python benchmarks/boston_kfold.py --repeats 5 --mirror ../shared/datasets
"""

from __future__ import annotations

from harness import (
    PIPELINE,
    PLAIN,
    REPO,
    Row,
    alternate,
    argument_parser,
    difference,
    medians,
    print_table,
    project_copy,
    run_pipeline,
    run_plain,
)

ROWS = [
    Row("training seconds (k-fold + final fit)", "training_seconds", "{:.1f}"),
    Row("whole command, wall seconds", "wall_seconds", "{:.1f}"),
    Row("peak RSS, MiB", "peak_rss_mib", "{:.0f}"),
    Row("mean fold validation MAE", "mean_fold_val_mae", "{:.2f}", difference),
    Row("test MAE", "test_mae", "{:.2f}", difference),
]


def main() -> None:
    args = argument_parser(__doc__).parse_args()
    mirror = args.mirror.resolve()
    data = mirror / "boston_housing.npz"
    script = REPO / "benchmarks" / "plain_keras_boston.py"

    with project_copy(mirror) as (project, env):
        results = alternate(
            {
                PIPELINE: lambda: run_pipeline(
                    project,
                    env,
                    "boston_kfold",
                    ["training_seconds", "mean_fold_val_mae", "test_mae"],
                ),
                PLAIN: lambda: run_plain(script, project, env, str(data)),
            },
            args.repeats,
        )
    print_table(ROWS, medians(results), args.repeats)


if __name__ == "__main__":
    main()
