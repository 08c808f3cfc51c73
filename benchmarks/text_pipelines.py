"""Benchmark: ``kedro run --pipeline=imdb|reuters`` against the book's plain-Keras script.

The plain side is ``plain_keras_imdb.py`` or ``plain_keras_reuters.py`` (Deep Learning
with Python, 2nd ed., 4.1 and 4.2, as written: float64 multi-hot vectors, a 20-epoch
hold-out fit, then a fresh model fitted on all training data and evaluated). The
pipeline side is read from the newest MLflow run of the experiment named after the
pipeline: its ``training_seconds`` and ``test_accuracy`` metrics. They run alternately,
``--repeats`` times each, in fresh processes; the table gives medians and ratios.
``--plain-only`` runs the plain script alone.

    python benchmarks/text_pipelines.py --pipeline imdb --repeats 3 --mirror ../shared/datasets
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

FINAL_EPOCHS = {"imdb": 4, "reuters": 9}
ROWS = [
    Row("training seconds (hold-out curve + final fit)", "training_seconds", "{:.1f}"),
    Row("whole command, wall seconds", "wall_seconds", "{:.1f}"),
    Row("peak RSS, MiB", "peak_rss_mib", "{:.0f}"),
    Row("test accuracy", "test_accuracy", "{:.4f}", points),
]


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--pipeline", choices=sorted(FINAL_EPOCHS), required=True)
    parser.add_argument(
        "--plain-only",
        action="store_true",
        help="run only the plain-Keras script (no Kedro pipeline needed)",
    )
    args = parser.parse_args()
    mirror = args.mirror.resolve()
    name = args.pipeline
    script = REPO / "benchmarks" / f"plain_keras_{name}.py"

    with project_copy(mirror) as (project, env):
        runners = {
            PIPELINE: lambda: run_pipeline(
                project, env, name, ["training_seconds", "test_accuracy"]
            ),
            PLAIN: lambda: run_plain(script, project, env, str(mirror)),
        }
        if args.plain_only:
            del runners[PIPELINE]
        results = alternate(runners, args.repeats)

    table = medians(results)
    print_table(ROWS, table, args.repeats)
    plain = table[PLAIN]
    print(
        f"\nPlain Keras, outside its training seconds: {plain['prepare_seconds']:.1f} s"
        f" vectorising (the book's float64 `vectorize_sequences`, train and test),"
        f" {plain['load_seconds']:.1f} s in `load_data`. Its training seconds are the"
        f" 20-epoch hold-out fit ({plain['curve_seconds']:.1f} s) plus the"
        f" {FINAL_EPOCHS[name]}-epoch final fit ({plain['final_seconds']:.1f} s)."
    )
    if "random_baseline_accuracy" in plain:
        print(
            "The book's random baseline (shuffled test labels):"
            f" {plain['random_baseline_accuracy']:.4f}."
        )


if __name__ == "__main__":
    main()
