"""``DaskRunner`` runs a pipeline's nodes on a ``dask.distributed`` cluster, adapted from
Kedro's deployment recipe (https://docs.kedro.org/en/stable/deploy/supported-platforms/dask/).

The cluster is the scheduler at ``address`` (``--runner-params=address=tcp://...``),
else at Dask's ``scheduler-address`` setting (``DASK_SCHEDULER_ADDRESS``, or a Dask
config file), else a ``LocalCluster`` started for the run and closed after it::

    dask scheduler --host 127.0.0.1 --port 8786
    dask worker tcp://127.0.0.1:8786 --nthreads 1  # as many as wanted
    DASK_SCHEDULER_ADDRESS=tcp://127.0.0.1:8786 \\
        kedro run --pipeline=boston_kfold --runner=keras_classics.runner.DaskRunner

Workers need this project installed (restart them after changing its code), and the
run's data folder and MLflow store within reach. A worker process runs one node at a
time, since nodes use process-wide environment variables (the MLflow run to log into,
``KERAS_CLASSICS_MIRROR``...): give workers one thread each (``--nthreads 1``), more
would only wait.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import uuid
from concurrent.futures import Executor, Future
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import dask
import mlflow
from distributed import Client, KilledWorker, LocalCluster, get_client, get_worker
from kedro.framework import project
from kedro.io import AbstractDataset, MemoryDataset
from kedro.runner import AbstractRunner
from kedro.runner.task import Task

from keras_classics import backends, compat
from keras_classics.core.errors import WorkerLostError
from keras_classics.datasets.raw_dataset import MIRROR_ENV
from keras_classics.environment import environment_set
from keras_classics.hooks import RUN_ENVIRONMENT

from .node_catalog import node_catalog

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager

# Set for each node as they are in the process of `kedro run`.
FORWARDED_ENVIRONMENT = (*RUN_ENVIRONMENT, MIRROR_ENV, "KERAS_HOME")
_ONE_NODE_AT_A_TIME = threading.Lock()


class DaskDataset(AbstractDataset[Any, Any]):
    """Data handed from node to node on the cluster, published under ``name``.

    Saved by the task that produced it, it stays on that task's worker until released;
    loaded by any task, or by the ``kedro run`` process.
    """

    _EPHEMERAL = True  # for Kedro's resume suggestions: gone after the run

    def __init__(self, name: str):
        self._name = name

    def _save(self, data: Any) -> None:
        client = get_client()
        # On every worker (DaskRunner pauses the Active Memory Manager, which would
        # drop the copies): a lost worker loses no data (Dask recomputes lost task
        # results, not scattered data), and the node it ran runs again elsewhere.
        (future,) = client.scatter([data], hash=False, broadcast=True)
        client.publish_dataset(future, name=self._name, override=True)

    def _load(self) -> Any:
        return get_client().get_dataset(self._name).result()

    def _release(self) -> None:
        get_client().unpublish_dataset(self._name)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}


class DaskRunner(AbstractRunner):
    """Runs each node on a Dask worker as soon as its inputs are ready; the
    pipeline's in-memory datasets become ``DaskDataset``s, kept on the cluster."""

    def __init__(self, address: str | None = None, is_async: bool = False):
        """
        Args:
            address: The Dask scheduler's; default: Dask's ``scheduler-address``
                setting, else a ``LocalCluster`` for the run.
            is_async: Load and save each node's inputs and outputs in threads.
        """
        super().__init__(is_async=is_async)
        self._address = address
        self._client: Client | None = None

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        prefix = uuid.uuid4().hex  # apart from other runs' on the same cluster
        in_memory = {
            name
            for name in pipeline.datasets()
            if isinstance(catalog.get(name), MemoryDataset) and not catalog.exists(name)
        }
        for name in in_memory:
            compat.replace_dataset(catalog, name, DaskDataset(f"{prefix}/{name}"))
        workers = len(pipeline.nodes) - len(pipeline.grouped_nodes) + 1
        with self._connect(min(workers, os.cpu_count() or 1)) as self._client:
            try:
                self._run_nodes(pipeline, catalog, hook_manager, run_id)
                for name in in_memory & pipeline.outputs():  # kept after the cluster
                    compat.replace_dataset(
                        catalog, name, MemoryDataset(catalog.load(name))
                    )
            finally:
                for name in self._client.list_datasets():
                    if name.startswith(f"{prefix}/"):
                        self._client.unpublish_dataset(name)

    def _run_nodes(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None,
        run_id: str | None,
    ) -> None:
        """Kedro's run, each node on the cluster; Dask runs a node again on another
        worker when its worker dies (up to its ``allowed-failures``)."""
        try:
            super()._run(pipeline, catalog, hook_manager, run_id)
        except KilledWorker as error:
            raise WorkerLostError(_lost_worker_message(error)) from error

    @contextmanager
    def _connect(self, workers: int) -> Iterator[Client]:
        address = self._address or dask.config.get("scheduler-address", None)
        with ExitStack() as stack:
            if address:
                client = stack.enter_context(Client(address))
            else:
                cluster = stack.enter_context(
                    LocalCluster(n_workers=workers, threads_per_worker=1)
                )
                client = stack.enter_context(Client(cluster))
                # Every worker registered before the first task (on a busy machine
                # one may still be starting).
                client.wait_for_workers(workers)
                self._logger.info(
                    "Started %s for this run: %d workers",
                    cluster,
                    len(client.scheduler_info()["workers"]),
                )
            self._logger.info(
                "Running nodes on %s (dashboard: %s)", client, client.dashboard_link
            )
            # Dask's Active Memory Manager drops the copies DaskDataset makes on every
            # worker (its ReduceReplicas policy keeps one per key): paused for the run,
            # so that a lost worker loses no data.
            if client.amm.running():
                client.amm.stop()
                stack.callback(client.amm.start)
            yield client

    def _get_executor(self, max_workers: int) -> Executor:
        environment = {
            name: os.environ[name]
            for name in FORWARDED_ENVIRONMENT
            if name in os.environ
        } | {"KERAS_BACKEND": backends.configured_backend()}
        return _NodeExecutor(
            self._client, environment, project.PACKAGE_NAME, dict(project.LOGGING)
        )


def _lost_worker_message(error: KilledWorker) -> str:
    worker = getattr(error.last_worker, "address", error.last_worker)
    node = str(error.task).rsplit("-", 1)[0]  # _NodeExecutor's key: <node>-<uuid>
    tries = error.allowed_failures + 1
    return (
        f"Dask worker {worker} died while running node {node}, and Dask gives up on "
        f"it: {tries} worker(s) died running it (the scheduler's "
        f"distributed.scheduler.allowed-failures is {error.allowed_failures}). The "
        "worker's log may say why (memory, a killed process); restart the worker, "
        "then run again."
    )


class _NodeExecutor(Executor):
    """Where ``AbstractRunner._run`` submits each node's ``Task``: to the cluster."""

    def __init__(self, client: Client, *context: Any):
        self._executor = client.get_executor(pure=False)
        self._context = context

    def submit(self, task: Task) -> Future[Node]:
        return self._executor.submit(
            _run_node,
            task.node,
            node_catalog(task.catalog, task.node),
            task.is_async,
            task.run_id,
            *self._context,
            key=f"{task.node.name}-{uuid.uuid4().hex}",  # as on the Dask dashboard
        )

    def __exit__(self, error: type[BaseException] | None, *_: Any) -> None:
        # After a failure, cancel the nodes still to run (Dask lets running ones end).
        self._executor.shutdown(wait=error is None)


def _run_node(  # noqa: PLR0913
    node: Node,
    catalog: CatalogProtocol,
    is_async: bool,
    run_id: str | None,
    environment: dict[str, str],
    package_name: str | None,
    logging_config: dict[str, Any],
) -> Node:
    """Run ``node`` in a Dask worker, as it would run in the ``kedro run`` process."""
    with _ONE_NODE_AT_A_TIME:
        if package_name != project.PACKAGE_NAME:  # a worker started on its own
            project.configure_project(package_name)
            project.configure_logging(logging_config)
        # The project's hooks only (kedro-mlflow's is one of them): plugins' hooks are
        # set up by the `kedro run` process and have no state here.
        hook_manager = compat.project_hook_manager(project.settings.HOOKS)
        get_client()  # the worker's client, found by `is_async` threads once it exists
        _check_backend(environment["KERAS_BACKEND"])
        with (
            environment_set(environment),
            _mlflow_run(environment.get("MLFLOW_RUN_ID")),
        ):
            return Task(node, catalog, is_async, hook_manager, run_id).execute()


def _check_backend(backend: str) -> None:
    """The worker runs Keras on ``backend`` (the ``kedro run``'s): it is set for the
    node, so a worker imports Keras on it, unless an earlier node of another run
    imported Keras on another backend, which only a new worker process can change."""
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != backend:
        raise RuntimeError(
            f"Dask worker {get_worker().address} runs Keras on "
            f"{keras.backend.backend()!r} (an earlier run's), but this run trains on "
            f"{backend!r}: restart the workers (or start them with "
            f"KERAS_BACKEND={backend})."
        )


@contextmanager
def _mlflow_run(run_id: str | None) -> Iterator[None]:
    """Make ``run_id`` the active MLflow run in this thread, as it is in the ``kedro
    run`` process (a model logged without one would belong to no run)."""
    if run_id:
        # What mlflow.start_run(run_id=...) makes active, without its two requests
        # per node (read the run, mark it RUNNING again): ~1.5 s of each worker's
        # time on boston_kfold_sweep.
        compat.activate_run(_run(mlflow.get_tracking_uri(), run_id))
    try:
        yield
    finally:
        # Let it go without ending it, or the next node run in this thread, maybe of
        # another `kedro run`, would log into it.
        compat.deactivate_runs()


@functools.lru_cache(maxsize=16)
def _run(tracking_uri: str, run_id: str) -> mlflow.entities.Run:
    """The run, read once per worker process."""
    return mlflow.MlflowClient(tracking_uri).get_run(run_id)
