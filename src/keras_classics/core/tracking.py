"""MLflow tracking declared in the catalog: metrics and per-epoch histories in batches.

kedro-mlflow's ``MlflowMetricsHistoryDataset`` logs one value per request; a k-fold run
has thousands of per-epoch values, which cost seconds one by one on a SQLite store and
far longer against a remote server. ``MlflowMetricsDataset`` sends them with
``MlflowClient.log_batch`` instead (the API's limit of 1,000 metrics per call), so a
whole run's histories are logged in a handful of requests.

kedro-mlflow's ``MlflowArtifactDataset`` builds its class at run time, so it can't be
pickled and the ParallelRunner refuses it; ``MlflowArtifactDataset`` here is a plain
class doing the same: save a kedro-datasets dataset (atomically), then log its file.

``MlflowNestedRunsDataset`` gives a node that decides its runs as it goes - a search,
a run per trial - ``NestedRuns`` under the current run to make them with.

The run is the one kedro-mlflow started for this ``kedro run``: the active run in this
process, or the one named by ``MLFLOW_RUN_ID`` in worker processes of a parallel or
distributed runner (``keras_classics.run_tracking.RunTracking`` exports it).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from keras_classics import compat
from keras_classics.backends import TRACKING_KEY, configured_backend
from keras_classics.core.atomic import AtomicDataset
from keras_classics.sweeps import VARIANT_TAG

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100

Metrics = Mapping[str, float | Sequence[float]]


def active_run_id() -> str | None:
    """The MLflow run this process logs to, if any."""
    run = mlflow.active_run()
    return run.info.run_id if run else os.environ.get("MLFLOW_RUN_ID") or None


def _required_run_id(nested_run: str | None = None) -> str:
    """The current run's id, or that of its child tagged ``nested_run``."""
    run_id = active_run_id()
    if run_id is None:
        raise DatasetError(
            "No MLflow run is active to log to. Run the pipeline with `kedro run` "
            "(kedro-mlflow starts the run), or set MLFLOW_RUN_ID."
        )
    return run_id if nested_run is None else nested_run_id(run_id, nested_run)


@functools.cache
def nested_run_id(parent_run_id: str, name: str) -> str:
    """The child run of ``parent_run_id`` tagged ``keras_classics.variant = name``
    (created before the pipeline runs by ``keras_classics.run_tracking.RunTracking``)."""
    client = MlflowClient()
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    found = client.search_runs(
        [experiment_id],
        f"tags.`mlflow.parentRunId` = '{parent_run_id}' "
        f"and tags.`{VARIANT_TAG}` = '{name}'",
    )
    if len(found) != 1:
        raise DatasetError(
            f"Expected one nested MLflow run {name!r} under run {parent_run_id}, found "
            f"{len(found)}: run sweeps with `kedro run --pipeline=<sweep>`."
        )
    return found[0].info.run_id


def log_metrics(run_id: str, data: Metrics, prefix: str | None = None) -> None:
    """Log ``{key: value}`` (at step 0) and ``{key: [value per epoch]}`` (step = epoch,
    from 1) to run ``run_id``, in batches."""
    timestamp = int(time.time() * 1000)
    metrics = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Sequence):
            metrics += [
                Metric(name, float(v), timestamp, step)
                for step, v in enumerate(value, 1)
            ]
        else:
            metrics.append(Metric(name, float(value), timestamp, 0))
    client = MlflowClient()
    for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[start : start + MAX_METRICS_PER_BATCH])


class MlflowMetricsDataset(AbstractDataset[Metrics, dict[str, list[float]]]):
    """Logs ``{key: value}`` and ``{key: [value per epoch]}`` to the current MLflow run.

    A list is a history: its values are logged with ``step`` = epoch number, counting
    from 1 as the book does. A scalar is logged at step 0.
    """

    def __init__(
        self,
        prefix: str | None = None,
        nested_run: str | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        self._prefix = prefix
        self._nested_run = nested_run
        self.metadata = metadata
        setattr(self, compat.LOGGING_SWITCH, True)  # kedro-mlflow's off switch

    def _save(self, data: Metrics) -> None:
        if not compat.logging_activated(self):
            return
        log_metrics(_required_run_id(self._nested_run), data, self._prefix)

    def _load(self) -> dict[str, list[float]]:
        client = MlflowClient()
        run_id = _required_run_id(self._nested_run)
        keys = client.get_run(run_id).data.metrics
        if self._prefix:
            keys = [key for key in keys if key.startswith(f"{self._prefix}.")]
        return {
            key: [
                m.value
                for m in sorted(
                    client.get_metric_history(run_id, key), key=lambda m: m.step
                )
            ]
            for key in keys
        }

    def _describe(self) -> dict[str, Any]:
        return {"prefix": self._prefix, "nested_run": self._nested_run}


class MlflowArtifactDataset(AbstractDataset[Any, Any]):
    """Saves data with a kedro-datasets dataset, atomically, then logs the file to
    the MLflow run.

    ``dataset`` is the wrapped dataset's catalog config (``type``, ``filepath``, ...),
    saved through ``keras_classics.core.atomic.AtomicDataset``; loading reads that
    file back.
    """

    def __init__(
        self,
        dataset: dict[str, Any],
        artifact_path: str | None = None,
        nested_run: str | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        self._dataset = AtomicDataset(dataset)
        self._nested_run = nested_run
        self._local_path = Path(dataset["filepath"])
        self._artifact_path = artifact_path
        self.metadata = metadata
        setattr(self, compat.LOGGING_SWITCH, True)  # kedro-mlflow's off switch
        if hasattr(self._dataset, "preview"):
            self.preview = self._dataset.preview  # for kedro-viz, as in AtomicDataset

    def _save(self, data: Any) -> None:
        self._dataset.save(data)
        if compat.logging_activated(self):
            MlflowClient().log_artifact(
                _required_run_id(self._nested_run),
                str(self._local_path),
                self._artifact_path,
            )

    def _load(self) -> Any:
        return self._dataset.load()

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset": self._dataset._describe(),
            "artifact_path": self._artifact_path,
            "nested_run": self._nested_run,
        }


class NestedRuns:
    """Runs nested in this ``kedro run``'s MLflow run, made while a node runs: a
    search's trials, whose number, and when each ends, the search decides. From
    ``MlflowNestedRunsDataset``; without a run to nest in (tracking off), every call
    does nothing."""

    def __init__(self, parent_run_id: str | None) -> None:
        self._parent = parent_run_id

    @functools.cached_property
    def _experiment_id(self) -> str:
        return MlflowClient().get_run(self._parent).info.experiment_id

    def start(
        self, run_name: str, tags: Mapping[str, str], params: Mapping[str, Any]
    ) -> str | None:
        """A new nested run with ``tags`` and ``params``, and the Keras backend as a
        plain run has it (tag and parameter); its id."""
        if self._parent is None:
            return None
        backend = {TRACKING_KEY: configured_backend()}
        client = MlflowClient()
        run = client.create_run(
            self._experiment_id,
            run_name=run_name,
            tags={"mlflow.parentRunId": self._parent, **tags, **backend},
        )
        logged = [
            Param(key, str(value)) for key, value in {**params, **backend}.items()
        ]
        for start in range(0, len(logged), MAX_PARAMS_PER_BATCH):
            client.log_batch(
                run.info.run_id, params=logged[start : start + MAX_PARAMS_PER_BATCH]
            )
        return run.info.run_id

    def log(self, run_id: str | None, metrics: Metrics) -> None:
        """``log_metrics`` to the nested run."""
        if run_id is not None:
            log_metrics(run_id, metrics)

    def end(self, run_id: str | None, status: str, tags: Mapping[str, str]) -> None:
        """Tag the nested run and end it with ``status`` (FINISHED, FAILED, KILLED)."""
        if run_id is None:
            return
        client = MlflowClient()
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        client.set_terminated(run_id, status)


class MlflowNestedRunsDataset(AbstractDataset[None, NestedRuns]):
    """``NestedRuns`` under the current MLflow run, for a node that makes runs."""

    def __init__(self, metadata: dict[str, Any] | None = None):
        self.metadata = metadata
        setattr(self, compat.LOGGING_SWITCH, True)  # kedro-mlflow's off switch

    def _load(self) -> NestedRuns:
        return NestedRuns(active_run_id() if compat.logging_activated(self) else None)

    def _save(self, data: None) -> None:
        raise DatasetError("Nested runs are made by the node that loads them.")

    def _describe(self) -> dict[str, Any]:
        return {}
