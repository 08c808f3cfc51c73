"""The Keras backend a ``kedro run`` trains on, known without importing Keras.

Keras reads it once, at its import: the ``KERAS_BACKEND`` environment variable, else
``"backend"`` in ``$KERAS_HOME/keras.json`` (``~/.keras/keras.json``), else
TensorFlow. The hooks need the name before any node imports Keras (to log it, and to
refuse a variant the backend can't run); importing Keras for it would import
TensorFlow into every ``kedro`` command.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT = "tensorflow"
SUPPORTED = ("tensorflow", "jax")
# The MLflow tag and parameter that record it.
TRACKING_KEY = "keras_backend"


def configured_backend() -> str:
    """The backend Keras will use in this process (Keras' own rules)."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        return json.loads((home / "keras.json").read_text()).get("backend", DEFAULT)
    except (OSError, ValueError, AttributeError):
        return DEFAULT


def check_supported(backend: str) -> None:
    """A ValueError, saying what to do, unless this project trains on ``backend``."""
    if backend not in SUPPORTED:
        raise ValueError(
            f"the Keras backend is {backend!r} (KERAS_BACKEND or keras.json); "
            f"this project trains on {' or '.join(map(repr, SUPPORTED))}: "
            "set KERAS_BACKEND=tensorflow (the default) or KERAS_BACKEND=jax."
        )
