"""A quiet console: third-party deprecation and user warnings, and TensorFlow's C++
start-up lines, are not the user's business during a ``kedro run``.

``quiet_third_parties`` runs in ``settings.py``, so that every Kedro command and worker
process has it; this project's own warnings still show. ``tensorflow_cpp_lines_dropped``
wraps ``kedro run`` (``keras_classics.cli``).
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

THIRD_PARTY_WARNINGS = (
    DeprecationWarning,
    PendingDeprecationWarning,
    FutureWarning,
    UserWarning,
)
# TensorFlow's C++ log lines in absl's format ("I0000 00:00:1796.. 31868 port.cc:153]
# oneDNN custom operations are on ..."), absl's notice that it logs before being
# initialised, and one ERROR line that tf.data prints for every training loop and that
# is harmless (an attribute newer than the op's registered signature).
TENSORFLOW_CPP_LINE = re.compile(
    rb"WARNING: All log messages before absl::InitializeLog\(\)"
    rb"|[IW]\d{4} [\d:.]+ +\d+ [\w./-]+:\d+\] "
    rb"|E\d{4} [\d:.]+ +\d+ node_def_util\.cc:\d+\] NodeDef mentions attribute "
    rb"use_unbounded_threadpool "
)
# Set while standard error goes through the filter to a terminal (for progress bars).
STDERR_TERMINAL_ENV = "KERAS_CLASSICS_STDERR_IS_TERMINAL"
# The first letters of those lines: a line so begun is held back until its end comes.
TENSORFLOW_CPP_INITIALS = (b"I", b"W", b"E")


def quiet_third_parties() -> None:
    """Hide third-party warnings of ``THIRD_PARTY_WARNINGS``, TensorFlow's C++ INFO and
    WARNING lines, and MLflow's progress bar for the artifacts it reads back when it
    logs a model (unless ``TF_CPP_MIN_LOG_LEVEL`` or
    ``MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR`` are set already)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for category in THIRD_PARTY_WARNINGS:
        warnings.filterwarnings(
            "ignore", category=category, module=r"(?!keras_classics)"
        )


@contextmanager
def tensorflow_cpp_lines_dropped() -> Iterator[None]:
    """Standard error, this process's and its children's, without TensorFlow's C++
    start-up lines (``TENSORFLOW_CPP_LINE``); every other line passes unchanged.

    TensorFlow 2.21 prints them through absl before its logging is initialised, and
    ``TF_CPP_MIN_LOG_LEVEL`` (1, 2 or 3) does not reach them: only file descriptor 2 does.
    ``TF_CPP_MIN_LOG_LEVEL=0`` keeps them all.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        yield
        return
    sys.stderr.flush()
    was_terminal = os.environ.get(STDERR_TERMINAL_ENV)
    if os.isatty(2):
        os.environ[STDERR_TERMINAL_ENV] = "1"
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward() -> None:
        pending = b""
        while chunk := os.read(read_end, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if not TENSORFLOW_CPP_LINE.match(line):
                    os.write(terminal, line + b"\n")
            if pending and not pending.startswith(TENSORFLOW_CPP_INITIALS):
                os.write(terminal, pending)  # a progress bar's "\r..." as it comes
                pending = b""
        os.write(terminal, pending)
        os.close(read_end)

    forwarder = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(terminal, 2)  # closes the pipe's last write end: the forwarder ends
        forwarder.join(timeout=5)
        # Unless a child process still holds the pipe (a parallel runner's worker
        # after a failed run): then the forwarder needs the terminal until the child
        # ends, and the descriptor goes with this process.
        if not forwarder.is_alive():
            os.close(terminal)
        if was_terminal is None:
            os.environ.pop(STDERR_TERMINAL_ENV, None)


def stderr_is_terminal() -> bool:
    """Whether standard error ends on a terminal, through the filter too."""
    return os.environ.get(STDERR_TERMINAL_ENV) == "1" or sys.stderr.isatty()
