"""``ImageSplitsDataset``: MNIST-style images from whichever raw form is available."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError

from keras_classics.datasets import keras_semantics
from keras_classics.datasets.errors import DatasetUnavailableError
from keras_classics.datasets.raw_dataset import KerasRawDataset, LoadedFile

logger = logging.getLogger(__name__)

IDX_PARTS = ("train_images", "train_labels", "test_images", "test_labels")
Splits = dict[str, np.ndarray]


class ImageSplitsDataset(AbstractDataset[None, Splits]):
    """Train and test images with their labels, from Keras' ``.npz`` or the four IDX
    ``.gz`` files (the original MNIST site's format, and Fashion-MNIST's).

    Each form is a ``KerasRawDataset`` config. A form whose files are all present
    locally (``data/01_raw``, the Keras cache or the mirror) is used first; otherwise
    the forms are tried in order, downloads included. Loads
    ``{x_train, y_train, x_test, y_test}`` as ``keras.datasets.mnist.load_data`` (or
    ``fashion_mnist``) returns them.
    """

    def __init__(
        self,
        *,
        npz: dict[str, Any] | None = None,
        idx: dict[str, dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if npz is None and idx is None:
            raise DatasetError("ImageSplitsDataset needs an 'npz' or an 'idx' form.")
        if idx is not None and set(idx) != set(IDX_PARTS):
            raise DatasetError(
                f"'idx' must name exactly {', '.join(IDX_PARTS)}; got {sorted(idx)}"
            )
        self._npz = _raw(npz) if npz else None
        self._idx = (
            {part: _raw(config) for part, config in idx.items()} if idx else None
        )
        self.metadata = metadata
        self.loaded_files: list[LoadedFile] = []

    def load(self) -> Splits:
        forms = {"npz": (self._npz,), "idx": tuple((self._idx or {}).values())}
        forms = {name: parts for name, parts in forms.items() if all(parts)}
        local_first = sorted(
            forms, key=lambda name: not all(p.exists() for p in forms[name])
        )
        failures = []
        for name in local_first:
            try:
                splits = self._load_npz() if name == "npz" else self._load_idx()
            except DatasetUnavailableError as error:
                failures.append(f"[{name}] {error}")
                continue
            logger.info("Images loaded from the %s form", name)
            self.loaded_files = [
                loaded for part in forms[name] for loaded in part.loaded_files
            ]
            return splits
        raise DatasetUnavailableError(
            "No form of the images could be loaded.\n\n" + "\n\n".join(failures)
        )

    def save(self, data: None) -> None:
        raise DatasetError(
            "ImageSplitsDataset is read-only: its raw files are inputs only."
        )

    def _load_npz(self) -> Splits:
        (x_train, y_train), (x_test, y_test) = keras_semantics.mnist(self._npz.load())
        return {
            "x_train": x_train,
            "y_train": y_train,
            "x_test": x_test,
            "y_test": y_test,
        }

    def _load_idx(self) -> Splits:
        parts = {part: dataset.load() for part, dataset in self._idx.items()}
        (x_train, y_train), (x_test, y_test) = keras_semantics.idx_pair(**parts)
        return {
            "x_train": x_train,
            "y_train": y_train,
            "x_test": x_test,
            "y_test": y_test,
        }

    def _exists(self) -> bool:
        return any(
            all(part.exists() for part in parts)
            for parts in ((self._npz,), tuple((self._idx or {}).values()))
            if all(parts)
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "npz": self._npz._describe() if self._npz else None,
            "idx": {part: d._describe() for part, d in self._idx.items()}
            if self._idx
            else None,
        }


def _raw(config: dict[str, Any]) -> KerasRawDataset:
    config = {
        key: value for key, value in config.items() if key not in ("type", "metadata")
    }
    return KerasRawDataset(**config)
