"""``kedro run``, with ``--env`` reaching the pipeline registry.

Kedro builds the pipelines without arguments, and ``kedro run --env`` gives the
environment to the session only; ``pipeline_registry`` reads the graph parameters
(``boston_kfold.k``, ``imdb.input``, ``mnist.dataset``) from ``KEDRO_ENV``'s
configuration. This command is Kedro's own ``run`` (same options, same code) that sets
``KEDRO_ENV`` from ``--env`` first - the one place that does - and reads
``--pipeline=<name>``, the command this project documents, as Kedro 1.7's
``--pipelines=<name>`` (Kedro warns that ``--pipeline`` is deprecated), and drops
TensorFlow's C++ start-up lines from standard error (``keras_classics.console``).
(https://docs.kedro.org/en/stable/extend/common_use_cases/ : a project's ``cli.py``
overrides Kedro's commands.)
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.validation import ParameterValidationError

from keras_classics.console import tensorflow_cpp_lines_dropped
from keras_classics.core.errors import WorkerLostError
from keras_classics.core.parameters import ParameterError
from keras_classics.core.preparation import InputError
from keras_classics.datasets.errors import DataValueError
from keras_classics.sweeps import SweepError
from keras_classics.tracking_store import TrackingStoreError


@click.group(name="keras_classics")
def cli() -> None:
    """Keras Classics' project commands."""


@cli.command(name="run", params=kedro_run.params, help=kedro_run.help)
@click.pass_context
def run(context: click.Context, /, **options: Any) -> None:
    if options.get("env"):
        os.environ["KEDRO_ENV"] = options["env"]
    if options.get("pipeline"):  # the documented command, without Kedro's deprecation
        options["pipelines"] = [options["pipeline"]]
        options["pipeline"] = None
    try:
        with tensorflow_cpp_lines_dropped():
            context.invoke(kedro_run, **options)
    except Exception as error:
        message = _message_for_people(error)
        if message is None:
            raise
        raise click.ClickException(message) from None


# Errors whose message says it all: shown as one line, without a traceback.
SELF_EXPLAINED = (
    # Kedro's check of node parameters typed with pydantic models, and the project's.
    ParameterValidationError,
    ParameterError,
    # A prediction input that can't be read or prepared: named, with what is wrong.
    InputError,
    # A tracking store that does not answer or is not MLflow's: named, where from.
    TrackingStoreError,
    # A worker lost for good (DaskRunner): its address, the node, what to do.
    WorkerLostError,
    # A sweeps.yml entry that cannot run: the sweep, the variant, what to change.
    SweepError,
)


def _message_for_people(error: Exception) -> str | None:
    """The one line to show for ``error``, or None for a traceback."""
    if isinstance(error, SELF_EXPLAINED):
        return str(error)
    # A bad value in the data, as Kedro's catalog reports it (with the dataset's name).
    if _caused_by(error, DataValueError):
        return str(error)
    if "mlflow" in sys.modules:  # a run started: the tracking server may have gone
        from keras_classics.tracking_store import lost_server_message  # noqa: PLC0415

        return lost_server_message(error)
    return None


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is in ``error``'s chain - or in the traceback text a process
    pool gives as the cause of an error raised in a worker process."""
    name = f"{kind.__module__}.{kind.__qualname__}:"
    while error is not None:
        if isinstance(error, kind) or name in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False
