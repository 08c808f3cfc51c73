"""What a node hands to MLflow to log and register: a trained model, how raw inputs
are prepared for it, and a few raw inputs that show how to call it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from keras_classics.core.preparation import Preparation


@dataclass(frozen=True)
class ServableModel:
    """A trained model (a ``keras.Model``, or the scratch CNN's weights), its
    ``Preparation`` and raw inputs as MLflow's input example; registered under
    ``registered_model_name`` when given, else the catalog's name."""

    model: Any
    preparation: Preparation
    input_example: np.ndarray
    registered_model_name: str | None = None
