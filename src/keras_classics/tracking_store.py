"""The tracking preflight: the MLflow store answers, and is an MLflow store, before a
``kedro run`` loads any data.

MLflow retries a request to a server that does not answer for minutes
(``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, ``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``): right
for a server restarted in the middle of a run, not for one that was never there. The
preflight asks once, with a short timeout and no retries; the run's own requests keep
MLflow's retries. A SQLite file is opened read-only, so that a file which is not an
MLflow store (a corrupt file, another program's database) is named and left as it is -
MLflow would add its tables to another program's database.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import AbstractContextManager, closing
from pathlib import Path

from keras_classics.environment import environment_set

# One request, no retries, a short wait: the whole preflight well inside 15 s.
PREFLIGHT_TIMEOUT_SECONDS = 5
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
# Tables every MLflow SQL store has (mlflow/store/db_migrations).
MLFLOW_TABLES = {"alembic_version", "experiments", "runs"}


class TrackingStoreError(RuntimeError):
    """The tracking or registry store does not answer, or is not an MLflow store."""


def uri_source(uri: str, conf_source: str | os.PathLike, env: str | None) -> str:
    """Where ``uri`` came from: ``MLFLOW_TRACKING_URI``, or the ``mlflow.yml`` of the
    run's environment (``conf/<env>/``) or of ``conf/base/``."""
    if os.environ.get(TRACKING_URI_ENV) == uri:
        return f"the environment variable {TRACKING_URI_ENV}"
    for folder in (env or "local", "base"):
        path = Path(conf_source, folder, "mlflow.yml")
        if path.is_file() and "mlflow_tracking_uri" in path.read_text("utf-8"):
            return str(Path(Path(conf_source).name, folder, "mlflow.yml"))
    return "mlflow.yml"


def check_store(uri: str, *, source: str, role: str = "tracking") -> None:
    """Raise ``TrackingStoreError`` unless the store at ``uri`` answers as MLflow's.

    ``source`` says where the URI was set; ``role`` is ``tracking`` or ``registry``.
    """
    if uri.startswith(("http://", "https://")):
        _check_server(uri, source, role)
    elif uri.startswith("sqlite:///"):
        _check_sqlite(Path(uri.removeprefix("sqlite:///")), uri, source)


def _check_server(uri: str, source: str, role: str) -> None:
    import mlflow  # noqa: PLC0415
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    ask = (
        client.search_registered_models
        if role == "registry"
        else client.search_experiments
    )
    try:
        with quick_requests():
            ask(max_results=1)
    except (MlflowException, ValueError) as error:  # ValueError: not JSON
        raise TrackingStoreError(
            f"The MLflow {role} server {uri} does not answer as an MLflow server "
            f"({_reason(error)}). The URI comes from {source}. Start the server "
            "(README: 'A team tracking server'), or point "
            f"{TRACKING_URI_ENV} at one that runs; without {TRACKING_URI_ENV} and "
            "--env, runs are tracked in mlflow.db."
        ) from None


def quick_requests() -> AbstractContextManager[None]:
    """One quick try per request in the block, no retries (MLflow's own settings of
    its HTTP client)."""
    return environment_set(
        {
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": str(PREFLIGHT_TIMEOUT_SECONDS),
        }
    )


def lost_server_message(error: BaseException) -> str | None:
    """What to tell the user when ``error`` is a request to the tracking server that
    failed after MLflow's retries (the server went away during the run); else None."""
    import requests  # noqa: PLC0415 (MLflow's HTTP client)
    from mlflow.environment_variables import (  # noqa: PLC0415
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES,
    )

    lost = (requests.exceptions.ConnectionError, requests.exceptions.RetryError)
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, lost):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    import mlflow  # noqa: PLC0415

    return (
        f"The MLflow tracking server {mlflow.get_tracking_uri()} stopped answering "
        f"during the run, and MLflow's retries ran out "
        f"(MLFLOW_HTTP_REQUEST_MAX_RETRIES={MLFLOW_HTTP_REQUEST_MAX_RETRIES.get()}, "
        f"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR={MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get()}"
        "). The MLflow run keeps what was logged before; it shows as RUNNING if it "
        "could not be marked FAILED. Start the server again, then run again."
    )


def _reason(error: Exception) -> str:
    """The cause under MLflow's wrapping: ``Connection refused``, an HTTP status..."""
    text = str(error)
    for cause in ("Connection refused", "timed out", "Name or service not known"):
        if cause in text:
            return cause
    return text.splitlines()[0][:300]


def _check_sqlite(path: Path, uri: str, source: str) -> None:
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return  # MLflow creates it
    what_to_do = (
        f"Move it away (MLflow then creates a new store there), or point "
        f"{TRACKING_URI_ENV} at another store. The URI {uri} comes from {source}."
    )
    if not path.is_file():
        raise TrackingStoreError(f"{path} is not a file: {what_to_do}")
    try:
        # Read-only: nothing of the file is changed, whatever it is.
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            tables = {
                name
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
    except sqlite3.DatabaseError as error:
        raise TrackingStoreError(
            f"{path} is not an MLflow store: SQLite says {str(error)!r}. {what_to_do}"
        ) from None
    if tables and not MLFLOW_TABLES.issubset(tables):
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise TrackingStoreError(
            f"{path} is an SQLite database, but not an MLflow store (its tables: "
            f"{shown}): it is left as it is. {what_to_do}"
        )
