"""A quiet console: third-party deprecation and user warnings, and TensorFlow's C++
start-up lines, are not the user's business during a ``kedro run``.

Imported by ``settings.py``, so that every Kedro command and worker process has it;
this project's own warnings still show.
"""

from __future__ import annotations

import os
import warnings

THIRD_PARTY_WARNINGS = (
    DeprecationWarning,
    PendingDeprecationWarning,
    FutureWarning,
    UserWarning,
)


def quiet_third_parties() -> None:
    """Hide third-party warnings of ``THIRD_PARTY_WARNINGS`` and TensorFlow's C++
    INFO and WARNING lines (unless ``TF_CPP_MIN_LOG_LEVEL`` is set already)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for category in THIRD_PARTY_WARNINGS:
        warnings.filterwarnings(
            "ignore", category=category, module=r"(?!keras_classics)"
        )
