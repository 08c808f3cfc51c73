"""Concurrent clients of a served Boston model: what the load test asserts on and the
serving benchmark measures (``benchmarks/serving.py``)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

FEATURES = [
    *("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE"),
    *("DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"),
]
BATCHES = 20  # distinct request bodies, of 1 to 5 rows
TOLERANCE = 1e-5
REQUEST_TIMEOUT = 60.0  # the server's own limit (``mlflow models serve -t``)


@dataclass(frozen=True)
class Answer:
    """One request: the batch sent, the HTTP status (0: no answer), the body or the
    error, and the seconds from sending it to reading the whole answer."""

    batch: int
    status: int
    body: bytes
    seconds: float


class InFlight:
    """How many requests are out at once, and the most there were."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *_) -> None:
        with self._lock:
            self.now -= 1


def load(
    url: str, bodies: list[bytes], clients: int, seconds: float
) -> tuple[list[list[Answer]], int, float]:
    """``clients`` threads, started together, each POSTing ``bodies`` in turn (client
    ``i`` from body ``i``) to ``/invocations`` on a keep-alive connection until
    ``seconds`` have passed. A request that fails is not retried. Each client's
    answers, the peak number of requests in flight, and the seconds it all took."""
    address = urlsplit(url)
    start = threading.Barrier(clients + 1)
    in_flight = InFlight()

    def client(first: int) -> list[Answer]:
        answers = []
        connection = http.client.HTTPConnection(
            address.hostname, address.port, timeout=REQUEST_TIMEOUT
        )
        start.wait()
        deadline = time.perf_counter() + seconds
        try:
            while time.perf_counter() < deadline:
                batch = (first + len(answers)) % len(bodies)
                began = time.perf_counter()
                try:
                    with in_flight:
                        connection.request(
                            "POST",
                            "/invocations",
                            body=bodies[batch],
                            headers={"Content-Type": "application/json"},
                        )
                        response = connection.getresponse()
                        status, body = response.status, response.read()
                except (OSError, http.client.HTTPException) as error:
                    status, body = 0, repr(error).encode()
                    connection.close()  # the next request connects again
                answers.append(Answer(batch, status, body, time.perf_counter() - began))
        finally:
            connection.close()
        return answers

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        start.wait()
        began = time.perf_counter()
        answers = [f.result(timeout=seconds + 2 * REQUEST_TIMEOUT) for f in futures]
    return answers, in_flight.peak, time.perf_counter() - began


def wrong(answer: Answer, expected: list[np.ndarray]) -> str | None:
    """What is wrong with an answer, or None: HTTP 200 with the expected prices of the
    rows its request sent."""
    if answer.status != 200:
        return f"HTTP {answer.status}: {answer.body[:200].decode(errors='replace')}"
    try:
        got = [row["prediction"] for row in json.loads(answer.body)["predictions"]]
    except (ValueError, KeyError, TypeError) as error:
        return f"unreadable answer ({error!r}): {answer.body[:200]!r}"
    prices = expected[answer.batch]
    if len(got) != len(prices) or not np.allclose(got, prices, rtol=0, atol=TOLERANCE):
        return f"answered {got}, expected {prices.tolist()}"
    return None


def raw_batches(project: Path) -> list[np.ndarray]:
    """``BATCHES`` different requests' rows of raw features (1 to 5 rows each), from
    the project's training and test splits."""
    splits = project / "data/02_intermediate/boston_kfold"
    rows = pd.concat(
        pd.read_parquet(splits / f"{split}.parquet")[FEATURES]
        for split in ("train", "test")
    ).to_numpy("float64")
    return [rows[3 * k : 3 * k + 1 + k % 5] for k in range(BATCHES)]


def request_body(k: int, rows: np.ndarray) -> bytes:
    """The JSON of a request for ``rows``: every other one as the README's
    ``{"inputs": [[...], ...]}``, the others as ``dataframe_split`` with the columns
    named."""
    if k % 2 == 0:
        return json.dumps({"inputs": rows.tolist()}).encode()
    split = {"columns": FEATURES, "data": rows.tolist()}
    return json.dumps({"dataframe_split": split}).encode()
