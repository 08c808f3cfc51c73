"""Errors of training, shared by the Keras loop, the NumPy CNN and the runners."""

from __future__ import annotations


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite: training stopped, nothing is saved."""

    def __init__(
        self, loss: float, epoch: int, epochs: int, learning_rate: float, parameter: str
    ):
        self._arguments = (loss, epoch, epochs, learning_rate, parameter)
        super().__init__(
            f"Training diverged: the loss is {loss} at epoch {epoch} of {epochs}, so "
            f"training stopped and no model is saved. Lower the learning rate "
            f"({parameter} is {learning_rate:g}), or look for NaN/inf in the inputs."
        )

    def __reduce__(self):
        """Rebuilt from its arguments: it crosses processes (Parallel, Dask runners)."""
        return type(self), self._arguments


class WorkerLostError(RuntimeError):
    """A worker died running a node, and the runner could not run it elsewhere."""
