"""Benchmark: each pipeline on TensorFlow and on JAX, side by side, with plain Keras.

Per pipeline, in fresh processes taking turns (the order reversed every repeat):
``kedro run --pipeline=<name>`` with ``KERAS_BACKEND=tensorflow`` and with
``KERAS_BACKEND=jax``, and the book's plain-Keras script for it on JAX - what a reader
of the current edition runs - as the anchor (``--plain-tensorflow`` adds the script on
TensorFlow too). The table gives medians: training seconds, the whole command, peak
RSS and the test metric.

    python benchmarks/backends.py --repeats 3 --mirror ../shared/datasets
    python benchmarks/backends.py --pipelines boston_kfold --plain-tensorflow
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from harness import (
    REPO,
    alternate,
    argument_parser,
    project_copy,
    run_pipeline,
    run_plain,
)


@dataclass(frozen=True)
class Case:
    metric: str  # the pipeline's and the plain script's test metric
    script: str  # benchmarks/plain_keras_<script>.py
    data: str  # its argument, inside the mirror ("" for the mirror itself)


CASES = {
    "boston_kfold": Case("test_mae", "boston", "boston_housing.npz"),
    "imdb": Case("test_accuracy", "imdb", ""),
    "reuters": Case("test_accuracy", "reuters", ""),
    "mnist": Case("test_accuracy", "mnist", ""),
}
ROWS = [
    ("training seconds", "training_seconds", "{:.1f}"),
    ("whole command, wall seconds", "wall_seconds", "{:.1f}"),
    ("peak RSS, MiB", "peak_rss_mib", "{:.0f}"),
]


def sides(
    name: str, project: Path, env: dict[str, str], mirror: Path, plain_tf: bool
) -> dict:
    """The commands to compare for pipeline ``name``, by column name."""
    case = CASES[name]
    script = REPO / "benchmarks" / f"plain_keras_{case.script}.py"
    data = str(mirror / case.data) if case.data else str(mirror)

    def pipeline(backend: str):
        return lambda: run_pipeline(
            project,
            {**env, "KERAS_BACKEND": backend},
            name,
            ["training_seconds", case.metric],
        )

    def plain(backend: str):
        return lambda: run_plain(
            script, project, {**env, "KERAS_BACKEND": backend}, data
        )

    columns = {
        "pipeline, TensorFlow": pipeline("tensorflow"),
        "pipeline, JAX": pipeline("jax"),
        "plain Keras, JAX": plain("jax"),
    }
    if plain_tf:
        columns["plain Keras, TensorFlow"] = plain("tensorflow")
    return columns


def print_table(name: str, results: dict, repeats: int) -> None:
    """Medians per column, and JAX's pipeline against TensorFlow's and the anchor."""
    table = {
        column: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for column, runs in results.items()
    }
    metric = CASES[name].metric
    rows = [*ROWS, (metric.replace("_", " "), metric, "{:.4f}")]
    columns = list(table)
    print(f"\n`{name}`: medians of {repeats} alternating runs each.\n")
    header = ["measure", *columns, "TF / JAX pipeline", "plain JAX / JAX pipeline"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    jax, tf, plain = (
        table["pipeline, JAX"],
        table["pipeline, TensorFlow"],
        table["plain Keras, JAX"],
    )
    for label, key, fmt in rows:
        cells = [label] + [fmt.format(table[column][key]) for column in columns]
        if key == metric:
            cells += [f"{jax[key] - tf[key]:+.4f}", f"{jax[key] - plain[key]:+.4f}"]
        else:
            cells += [f"{tf[key] / jax[key]:.2f}x", f"{plain[key] / jax[key]:.2f}x"]
        print("| " + " | ".join(cells) + " |")
    if "plain Keras, TensorFlow" in table:
        plain_tf = table["plain Keras, TensorFlow"]["wall_seconds"]
        print(
            f"\nWhole command: the book's plain-Keras TensorFlow script / the JAX "
            f"pipeline = {plain_tf / jax['wall_seconds']:.1f}x."
        )


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--pipelines", nargs="+", choices=sorted(CASES), default=list(CASES)
    )
    parser.add_argument(
        "--plain-tensorflow",
        action="store_true",
        help="also run the plain-Keras script on TensorFlow",
    )
    args = parser.parse_args()
    mirror = args.mirror.resolve()
    for name in args.pipelines:
        with project_copy(mirror) as (project, env):
            results = alternate(
                sides(name, project, env, mirror, args.plain_tensorflow),
                args.repeats,
            )
        print_table(name, results, args.repeats)


if __name__ == "__main__":
    main()
