"""Benchmark: ``kedro run --pipeline=mnist`` against the same work in plain Keras.

The plain side is ``plain_keras_mnist.py`` (same model, settings and data: a 5-epoch
fit with the last 6,000 images held out, then 5 epochs on all 60,000, then the test
set). Pipeline overhead = (pipeline wall - plain wall) / pipeline wall; a negative
overhead means the pipeline is faster. Medians of ``--repeats`` alternating runs.

    python benchmarks/mnist.py --repeats 3 --mirror ../shared/datasets
"""

from __future__ import annotations

from harness import (
    PIPELINE,
    PLAIN,
    REPO,
    Row,
    alternate,
    argument_parser,
    medians,
    points,
    print_table,
    project_copy,
    run_pipeline,
    run_plain,
)

ROWS = [
    Row("training seconds (hold-out fit + final fit)", "training_seconds", "{:.1f}"),
    Row("whole command, wall seconds", "wall_seconds", "{:.1f}"),
    Row("peak RSS, MiB", "peak_rss_mib", "{:.0f}"),
    Row("test accuracy", "test_accuracy", "{:.4f}", points),
]


def main() -> None:
    args = argument_parser(__doc__).parse_args()
    mirror = args.mirror.resolve()
    with project_copy(mirror) as (project, env):
        results = alternate(
            {
                PIPELINE: lambda: run_pipeline(
                    project, env, "mnist", ["training_seconds", "test_accuracy"]
                ),
                PLAIN: lambda: run_plain(
                    REPO / "benchmarks" / "plain_keras_mnist.py",
                    project,
                    env,
                    str(mirror),
                ),
            },
            args.repeats,
        )
    table = medians(results)
    print_table(ROWS, table, args.repeats)
    ours, plain = table[PIPELINE]["wall_seconds"], table[PLAIN]["wall_seconds"]
    print(
        f"\nPipeline overhead: {(ours - plain) / ours:+.1%} of the pipeline's wall time."
    )


if __name__ == "__main__":
    main()
