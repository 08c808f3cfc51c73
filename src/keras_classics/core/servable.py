"""What a node hands to MLflow to log and register: a trained model and real inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras
    import numpy as np


@dataclass(frozen=True)
class ServableModel:
    """A trained model and a few real inputs that show how to call it."""

    model: keras.Model
    input_example: np.ndarray
