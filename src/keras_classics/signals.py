"""Ctrl-C or ``kill`` during a ``kedro run``: its MLflow runs end KILLED, not FINISHED
(as MLflow's exit handler would end them), and the run stops like Ctrl-C, so every
``finally`` cleans up."""

from __future__ import annotations

import atexit
import functools
import logging
import os
import signal
import threading
from typing import Any

import mlflow
from mlflow.entities import RunStatus

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
logger = logging.getLogger(__name__)


def end_runs_as_killed_on_stop() -> dict[int, Any]:
    """Install the handler for Ctrl-C and SIGTERM in this process (the main thread's
    only: Python's rule); the handlers it replaced, for ``restore``."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    handler = functools.partial(_end_runs_as_killed, owner=os.getpid())
    return {number: signal.signal(number, handler) for number in STOP_SIGNALS}


def restore(handlers: dict[int, Any]) -> None:
    """Put back the handlers ``end_runs_as_killed_on_stop`` replaced."""
    for number, handler in handlers.items():
        signal.signal(number, handler)


def _end_runs_as_killed(number: int, frame, owner: int) -> None:
    """Mark the active MLflow runs and their running children KILLED, then raise
    ``KeyboardInterrupt``.

    Only the ``owner`` process (``kedro run``'s) ends the runs. Worker processes forked
    from it inherit this handler, and a terminal's Ctrl-C reaches them too: they only
    stop their node, keeping the run active in them.
    """
    name = signal.Signals(number).name
    if os.getpid() != owner:
        raise KeyboardInterrupt(name)
    client = mlflow.MlflowClient()
    killed = []
    while run := mlflow.active_run():
        killed += [
            child.info.run_id
            for child in client.search_runs(
                [run.info.experiment_id],
                f"tags.`mlflow.parentRunId` = '{run.info.run_id}' "
                "and attributes.status = 'RUNNING'",
            )
        ]
        logger.warning(
            "Stopped by %s: MLflow run %s ends as KILLED.", name, run.info.run_id
        )
        killed.append(run.info.run_id)
        mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
    _mark_killed(killed)
    # Spawned worker processes (a ParallelRunner on macOS and Windows) have the run
    # active too, and MLflow's exit handler in each of them ends it FINISHED when the
    # runner shuts them down, after this: mark the runs again at this process's exit.
    atexit.register(_mark_killed, killed)
    raise KeyboardInterrupt(name)


def _mark_killed(run_ids: list[str]) -> None:
    client = mlflow.MlflowClient()
    for run_id in run_ids:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.KILLED))
