"""``KerasModelDataset``: a Keras model in a ``.keras`` file, with Keras imported when
the model is loaded or saved.

kedro-datasets' ``tensorflow.TensorFlowModelDataset`` does the same through
TensorFlow, which it imports with its module: every Kedro command that builds the
catalog (``kedro viz build``, ``kedro catalog``) would import TensorFlow, and a model
could only be read with the TensorFlow backend. This one uses Keras' own saving API
(``keras.saving.load_model``, ``Model.save``), on any backend.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset


class KerasModelDataset(AbstractDataset[Any, Any]):
    """A local ``.keras`` file: ``load_args`` go to ``keras.saving.load_model`` (e.g.
    ``safe_mode: true``), ``save_args`` to ``Model.save``."""

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._load_args = dict(load_args or {})
        self._save_args = dict(save_args or {})
        self.metadata = metadata

    def _load(self) -> Any:
        import keras  # noqa: PLC0415 (the backend, only when a model is read)

        return keras.saving.load_model(self._filepath, **self._load_args)

    def _save(self, model: Any) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        model.save(self._filepath, **self._save_args)

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": PurePosixPath(self._filepath.as_posix()),
            "load_args": self._load_args,
            "save_args": self._save_args,
        }
