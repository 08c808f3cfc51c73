"""The tracking preflight, through real ``kedro run`` processes: a tracking server that
is not there, or a store that is not MLflow's, stops the run in seconds, before any data
is loaded, with one line naming the URI, where it came from and what to do."""

from __future__ import annotations

import hashlib
import http.server
import socket
import sqlite3
import threading
import time

import pytest

from keras_classics.tracking_store import TRACKING_URI_ENV
from tests.pipelines.boston_kfold.test_end_to_end import QUICK
from tests.project import Project

# The bound for a server that is not there (MLflow's retries took 259 s).
FAIL_WITHIN_SECONDS = 15


@pytest.fixture
def project(tmp_path) -> Project:
    return Project.with_boston_data(tmp_path)


def _error_line(done) -> str:
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert "Traceback" not in done.stderr
    return line


def _nothing_ran(project: Project) -> None:
    """No node ran: the raw file was not even read, nothing was written."""
    written = [
        path
        for path in (project.path / "data").rglob("*")
        if path.is_file() and path.parent != project.raw
    ]
    assert written == []


def _kedro_run(project: Project, env: dict[str, str] | None = None, *args: str):
    started = time.perf_counter()
    done = project.kedro(
        "run", "--pipeline=boston_kfold", "--params", QUICK, *args, env=env
    )
    return done, time.perf_counter() - started


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that takes connections and never answers (a hung server,
    a firewall that drops packets)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    ("server", "reason"),
    [("http_closed_port", "Connection refused"), ("silent_port", "timed out")],
    ids=["refused", "never-answers"],
)
def test_an_unreachable_server_fails_within_seconds_naming_uri_and_source(
    project, request, server, reason
):
    uri = f"http://127.0.0.1:{request.getfixturevalue(server)}"
    done, seconds = _kedro_run(project, {TRACKING_URI_ENV: uri})
    assert done.returncode != 0
    assert seconds < FAIL_WITHIN_SECONDS
    line = _error_line(done)
    assert f"The MLflow tracking server {uri} does not answer" in line
    assert f"({reason})" in line
    assert "comes from the environment variable MLFLOW_TRACKING_URI" in line
    assert "Start the server" in line
    _nothing_ran(project)
    assert not (project.path / "mlflow.db").exists()


def test_the_team_environment_names_its_mlflow_yml(project, http_closed_port):
    """``--env=team`` without MLFLOW_TRACKING_URI: the URI of conf/team/mlflow.yml."""
    team_yml = project.path / "conf" / "team" / "mlflow.yml"
    team_yml.write_text(
        team_yml.read_text().replace(
            "http://127.0.0.1:5000", f"http://127.0.0.1:{http_closed_port}"
        )
    )
    done, seconds = _kedro_run(project, None, "--env=team")
    assert done.returncode != 0
    assert seconds < FAIL_WITHIN_SECONDS
    line = _error_line(done)
    assert f"http://127.0.0.1:{http_closed_port} does not answer" in line
    assert "comes from conf/team/mlflow.yml" in line


class _NotMlflow(http.server.BaseHTTPRequestHandler):
    """Another web application on the tracking port: 404 for MLflow's API."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_error(404)

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args) -> None:
        pass


def test_a_server_that_is_not_mlflow_is_named(project):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMlflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        done, _ = _kedro_run(project, {TRACKING_URI_ENV: uri})
    finally:
        server.shutdown()
    assert done.returncode != 0
    line = _error_line(done)
    assert f"{uri} does not answer as an MLflow server" in line
    assert "404" in line
    _nothing_ran(project)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_corrupt_mlflow_db_is_named_and_left_unchanged(project):
    store = project.path / "mlflow.db"
    store.write_bytes(b"these bytes are not an SQLite database\n" * 100)
    before = _digest(store)
    done, _ = _kedro_run(project)
    assert done.returncode != 0
    line = _error_line(done)
    assert f"{store} is not an MLflow store" in line
    assert "file is not a database" in line
    assert "Move it away" in line
    assert "comes from conf/base/mlflow.yml" in line
    assert _digest(store) == before
    _nothing_ran(project)


def test_another_programs_database_is_named_and_left_unchanged(project):
    store = project.path / "mlflow.db"
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
        db.execute("INSERT INTO invoices VALUES (1, 9.5)")
    db.close()
    before = _digest(store)
    done, _ = _kedro_run(project)
    assert done.returncode != 0
    line = _error_line(done)
    assert "is an SQLite database, but not an MLflow store (its tables: invoices)" in (
        line
    )
    assert _digest(store) == before
    _nothing_ran(project)


def test_an_existing_mlflow_store_passes_the_preflight(project):
    """The check can pass: a store MLflow made is used as it is."""
    project.mlflow().search_experiments()  # creates the schema
    run = project.run_pipeline("boston_kfold", "--params", QUICK)
    assert run.info.status == "FINISHED"
