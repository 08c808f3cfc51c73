"""``ParallelRunner``: Kedro's, with less work per node, so that it pays on pipelines of
many small nodes such as a sweep (``benchmarks/sweep_runners.py``):

- each task carries its node's datasets, not the whole catalog (``node_catalog``);
- a worker process sets up its hooks once, not for every node: Kedro builds a hook
  manager per task, reading every installed package's entry points each time (~10 ms
  a node here).

    kedro run --pipeline=boston_kfold_sweep --runner=keras_classics.runner.ParallelRunner
"""

from __future__ import annotations

import functools
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from kedro import runner as kedro_runner
from kedro.framework import project
from kedro.runner.task import Task

from keras_classics import compat

from .node_catalog import node_catalog

if TYPE_CHECKING:
    from kedro.pipeline.node import Node
    from pluggy import PluginManager


class ParallelRunner(kedro_runner.ParallelRunner):
    """Kedro's ``ParallelRunner`` (a process per core, the same arguments), with
    tasks that carry their node's datasets and hooks set up once per process."""

    def _get_executor(self, max_workers: int) -> Executor:
        # Kedro's pool (start method from KEDRO_MP_CONTEXT) starts no process until a
        # task comes: only its multiprocessing context is used.
        kedro_pool = super()._get_executor(max_workers)
        return _NodeTaskPool(
            max_workers, mp_context=compat.multiprocessing_context(kedro_pool)
        )


class _NodeTaskPool(ProcessPoolExecutor):
    """Sends each task with its node's datasets; a run that stops (a node failed,
    Ctrl-C) drops the tasks that have not started, instead of running them first.

    A ProcessPoolExecutor still, so that AbstractRunner marks tasks ``parallel``.
    """

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        self.shutdown(wait=True, cancel_futures=exc_type is not None)
        return False

    def submit(self, task: Task, /, *args: Any, **kwargs: Any) -> Future[Node]:
        node_task = _NodeTask(
            node=task.node,
            catalog=node_catalog(task.catalog, task.node),
            is_async=task.is_async,
            run_id=task.run_id,
        )
        return super().submit(node_task, *args, **kwargs)


class _NodeTask(Task):
    """A ``Task`` run in a worker process with that process's hook manager."""

    def execute(self) -> Node:
        self.hook_manager = _process_hook_manager()
        return super().execute()


@functools.cache
def _process_hook_manager() -> PluginManager:
    """What Kedro sets up in a worker for each task (project set up if the process was
    spawned, project and plugin hooks registered), once per process."""
    return compat.process_hook_manager(project.PACKAGE_NAME, project.LOGGING)
