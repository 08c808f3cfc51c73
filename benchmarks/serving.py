"""How fast ``mlflow models serve`` answers the Boston model under concurrent clients.

    python benchmarks/serving.py --clients 50 --seconds 20 --repeats 3

In a throwaway copy of the project, boston_kfold trains briefly on the real data (from
``--mirror``; how long it trains changes nothing in serving) and registers its model.
``mlflow models serve -m models:/boston_kfold@champion --env-manager local`` then
starts on 127.0.0.1 as the README shows it (one uvicorn worker, MLflow's default),
and ``--clients`` threads POST ``/invocations`` back to back on keep-alive
connections for ``--seconds``, ``--repeats`` rounds after a warm-up round that is
not counted (``tests/serving/load.py``, which the load test uses too). Each request
holds 1 to 5 rows of raw features (JSON ``inputs`` or ``dataframe_split``, in turn),
the clients sending different rows at once. A request is an error unless it is
answered with HTTP 200 and, row by row, the prices the same model loaded locally with
``mlflow.pyfunc.load_model`` gives (within 1e-5); failed requests are not retried. Latency is from sending a request to reading its whole answer. The table
gives medians over the rounds; the clients run in this process, on the same cores
as the server.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
from pathlib import Path

import mlflow
import numpy as np
from harness import REPO, argument_parser, project_copy, timed

sys.path.insert(0, str(REPO))  # the tests' model server (as the README starts it) and
# load clients
from tests.servers import model_server  # noqa: E402
from tests.serving.load import load, raw_batches, request_body, wrong  # noqa: E402

QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"
MODEL_URI = "models:/boston_kfold@champion"
WARM_UP_SECONDS = 5.0
COLUMNS = ["clients", "requests", "errors", "requests/s", "p50 ms", "p99 ms"]


def round_figures(url, bodies, expected, clients: int, seconds: float) -> dict:
    """One round of ``load``: its figures (``COLUMNS``)."""
    per_client, _, elapsed = load(url, bodies, clients, seconds)
    answers = [answer for client in per_client for answer in client]
    errors = [problem for answer in answers if (problem := wrong(answer, expected))]
    for error in errors[:3]:
        print(f"  error: {error}", file=sys.stderr)
    latencies = sorted(answer.seconds for answer in answers)
    return {
        "clients": clients,
        "requests": len(answers),
        "errors": len(errors),
        "requests/s": len(answers) / elapsed,
        "p50 ms": 1000 * statistics.median(latencies),
        "p99 ms": 1000 * statistics.quantiles(latencies, n=100, method="inclusive")[98],
    }


def requests_and_answers(project: Path) -> tuple[list[bytes], list[np.ndarray]]:
    """The request bodies of raw rows, and the prices the registered model, loaded
    locally, gives for each."""
    batches = raw_batches(project)
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    # Kedro's logging, set up as the model first predicts, says so on stdout: the
    # table's.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            model = mlflow.pyfunc.load_model(MODEL_URI)
        finally:
            mlflow.set_tracking_uri(None)
        expected = [model.predict(batch)["prediction"].to_numpy() for batch in batches]
    bodies = [request_body(k, batch) for k, batch in enumerate(batches)]
    return bodies, expected


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0, help="per round")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # here and in the server
    with project_copy(args.mirror.resolve()) as (project, env):
        print("training boston_kfold (briefly) ...", file=sys.stderr)
        timed(
            [sys.executable, "-m", "kedro", "run", "--pipeline=boston_kfold"]
            + ["--params", QUICK],
            project,
            env,
        )
        bodies, expected = requests_and_answers(project)
        tracking_uri = f"sqlite:///{project / 'mlflow.db'}"
        with model_server(project, tracking_uri, MODEL_URI) as url:
            load(url, bodies, args.clients, WARM_UP_SECONDS)
            rounds = []
            for repeat in range(args.repeats):
                result = round_figures(
                    url, bodies, expected, args.clients, args.seconds
                )
                rounds.append(result)
                print(
                    f"  round {repeat + 1}: "
                    + ", ".join(f"{k}={v:.1f}" for k, v in result.items()),
                    file=sys.stderr,
                )
    median = {key: statistics.median(r[key] for r in rounds) for key in COLUMNS}
    print(
        f"Medians of {args.repeats} rounds of {args.seconds:g} s, after a "
        f"{WARM_UP_SECONDS:g} s warm-up, on {os.cpu_count()} cores.\n"
    )
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    print(
        f"| {median['clients']:.0f} | {median['requests']:.0f} "
        f"| {median['errors']:.0f} | {median['requests/s']:.0f} "
        f"| {median['p50 ms']:.0f} | {median['p99 ms']:.0f} |"
    )
    if any(r["errors"] for r in rounds):
        sys.exit("some requests were not answered, or answered wrong: see above")


if __name__ == "__main__":
    main()
