"""The tests whose results depend on the Keras backend, run again on the other one.

Keras takes its backend once per process, when it is imported (``KERAS_BACKEND``), so
this suite's process trains on one backend: TensorFlow, unless ``KERAS_BACKEND`` says
otherwise. Each test here runs some of the suite's tests in a pytest process on the
other backend, so that one ``python -m pytest`` covers both.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from keras_classics.backends import SUPPORTED, configured_backend
from tests.project import REPO

OTHER_BACKEND = next(name for name in SUPPORTED if name != configured_backend())
BACKEND_SENSITIVE = [
    "tests/core/test_training.py",  # equal to model.fit, epoch by epoch
    "tests/core/test_vectorize.py",  # multi-hot batches
    # The book's figures on the real data, each a FINISHED run tagged with its backend
    "tests/pipelines/boston_kfold/test_end_to_end.py::test_book_results_on_the_real_data",
    "tests/pipelines/text/test_end_to_end.py::"
    "test_reuters_reaches_the_books_accuracy_on_the_real_data",
    # Not repeated here, for CI's time: imdb's and mnist_dense's real-data runs (the
    # same code paths as reuters' and boston_kfold's), and the convnet's (XLA's CPU
    # convolutions make mnist a run of minutes on JAX); benchmarks/backends.py
    # measures them on both backends.
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    "tests", BACKEND_SENSITIVE, ids=lambda tests: tests.split("/")[-1]
)
def test_on_the_other_backend(tests):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "--no-cov", "-q", "-rs", tests],
        cwd=REPO,
        env={**os.environ, "KERAS_BACKEND": OTHER_BACKEND},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    report = done.stdout[-6000:] + done.stderr[-3000:]
    assert done.returncode == 0, f"on {OTHER_BACKEND}:\n{report}"
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    if skipped:  # e.g. the real datasets are missing, as on this backend
        pytest.skip(f"on {OTHER_BACKEND}: {skipped[0]}")
    assert " passed" in done.stdout, report
