"""The two inputs of a batch-prediction pipeline: a person's files, and the model.

``PredictionInputs`` is kedro-datasets' ``PartitionedDataset`` whose empty (or
missing) folder is an error that says what to put where. ``PredictionModelDataset``
loads the model to predict with from any MLflow model URI (by default the registered
model's ``champion``) or a local ``.keras`` file, and says which training command
registers one when there is none; what it loaded (``loaded_model``) is tagged on the
prediction run (``keras_classics.run_tracking``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.partitions import PartitionedDataset

ALIAS_SEPARATOR = "@"
PREPARATION_FILE = "preparation.json"  # beside model.keras: catalog_shared.yml


class PredictionInputs(PartitionedDataset):
    """A folder of inputs, one partition per file; ``expects`` says what files (for
    the error on an empty folder)."""

    def __init__(self, *, expects: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._expects = expects

    def load(self):
        try:
            return super().load()
        except DatasetError as error:
            if "No partitions found" not in str(error):
                raise
            raise DatasetError(
                f"There is nothing to predict in {self._path}: put {self._expects} "
                "there, then run again."
            ) from None


class PredictionModelDataset(AbstractDataset[Any, None]):
    """A trained model, read-only: ``model_uri`` is an MLflow model URI
    (``models:/<name>@champion``, ``models:/<name>/<version>``, ``runs:/...``, a
    model folder) loaded with ``mlflow.pyfunc.load_model``, or a ``.keras`` file
    loaded with Keras (safe mode). ``train_with`` is the command that registers one,
    ``parameter`` the ``--params`` key that sets ``model_uri``."""

    def __init__(
        self,
        model_uri: str,
        train_with: str,
        parameter: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._model_uri = str(model_uri)
        self._train_with = train_with
        self._parameter = parameter
        self.metadata = metadata
        self.loaded_model: dict[str, str] = {}

    def load(self) -> Any:
        if self._model_uri.endswith(".keras"):
            return self._load_keras_file(Path(self._model_uri))
        import mlflow  # noqa: PLC0415
        from mlflow.exceptions import MlflowException  # noqa: PLC0415

        self.loaded_model = {"model_uri": self._model_uri}
        if self._model_uri.startswith("models:/"):
            self.loaded_model |= self._registered_version()
        try:
            return mlflow.pyfunc.load_model(self._model_uri)
        except (MlflowException, OSError) as error:
            raise DatasetError(
                f"Could not load the model {self._model_uri}: {error}"
            ) from None

    def _registered_version(self) -> dict[str, str]:
        """The registered model and version a ``models:/`` URI names."""
        import mlflow  # noqa: PLC0415
        from mlflow.exceptions import MlflowException  # noqa: PLC0415

        reference = self._model_uri.removeprefix("models:/")
        name, _, alias = reference.partition(ALIAS_SEPARATOR)
        client = mlflow.MlflowClient()
        try:
            if alias:
                version = client.get_model_version_by_alias(name, alias)
            else:
                name, _, number = reference.partition("/")
                version = client.get_model_version(name, number)
        except MlflowException:
            raise DatasetError(
                f"No model is registered as {self._model_uri} in MLflow "
                f"({mlflow.get_tracking_uri()}): train one first with "
                f"`{self._train_with}`, or pass another model with --params "
                f"{self._parameter}=<an MLflow model URI or a .keras file>."
            ) from None
        return {"registered_model": name, "model_version": str(version.version)}

    def _load_keras_file(self, path: Path) -> Any:
        """The model with the ``preparation.json`` its training saved beside it."""
        preparation_file = path.with_name(PREPARATION_FILE)
        for needed in (path, preparation_file):
            if not needed.is_file():
                raise DatasetError(
                    f"There is no {needed}: a .keras model is used with the "
                    f"{PREPARATION_FILE} its training wrote beside it. Train one with "
                    f"`{self._train_with}` (it writes both), or pass an MLflow model URI."
                )
        import keras  # noqa: PLC0415

        from keras_classics.core.predictor import LocalPredictor  # noqa: PLC0415
        from keras_classics.core.preparation import Preparation  # noqa: PLC0415

        self.loaded_model = {"model_uri": str(path)}
        preparation = Preparation.from_dict(json.loads(preparation_file.read_text()))
        return LocalPredictor(
            keras.saving.load_model(path, safe_mode=True), preparation
        )

    def save(self, data: None) -> None:
        raise DatasetError(
            "PredictionModelDataset is read-only: training saves models."
        )

    def _describe(self) -> dict[str, Any]:
        return {"model_uri": self._model_uri}
