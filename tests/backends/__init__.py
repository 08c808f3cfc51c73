"""The tests whose results depend on the Keras backend, run again on the other one.

Keras takes its backend once per process, when it is imported (``KERAS_BACKEND``), so
this suite's process trains on one backend: TensorFlow, unless ``KERAS_BACKEND`` says
otherwise. Each test in this folder runs some of the suite's tests in a pytest process
on the other backend, so that one ``python -m pytest`` covers both. One file each, so
that the test workers run them side by side.

Not repeated on the other backend, for CI's time: imdb's and mnist_dense's real-data
runs (the same code paths as reuters' and boston_kfold's), and the convnet's (XLA's CPU
convolutions make mnist a run of minutes on JAX); benchmarks/backends.py measures them
on both backends.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from keras_classics.backends import SUPPORTED, configured_backend
from tests.project import REPO

OTHER_BACKEND = next(name for name in SUPPORTED if name != configured_backend())


def run_on_the_other_backend(tests: str) -> None:
    """Run ``tests`` (a pytest node id or path) in a pytest process on the other backend."""
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
