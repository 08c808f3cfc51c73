"""Registered models served over HTTP by ``mlflow models serve``, as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.project import Project
from tests.servers import stop_group
from tests.synthetic import sha256, write_aclimdb_tar, write_boston_npz

BOSTON_QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"
IMDB_QUICK = (
    "imdb.validation_samples=30,imdb.training.epochs=2,imdb.training.batch_size=16,"
    "imdb.final_epochs=2,imdb.final.batch_size=16"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("serving"))
    write_boston_npz(project.raw / "boston_housing.npz")
    write_aclimdb_tar(project.raw / "aclImdb_v1.tar.gz", 60)
    (project.raw / "SHA256SUMS").write_text(
        "".join(
            f"{sha256(project.raw / name)}  {name}\n"
            for name in ("boston_housing.npz", "aclImdb_v1.tar.gz")
        )
    )
    (project.path / "conf/raw_text/catalog_raw.yml").write_text(
        "aclimdb_raw:\n"
        "  type: keras_classics.datasets.KerasRawDataset\n"
        "  filepath: data/01_raw/aclImdb_v1.tar.gz\n"
        "  structure: {reviews: {train: null, test: null}}\n"
    )
    return project


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _predict(project: Project, model_uri: str, payload: dict):
    """Serve ``model_uri`` on 127.0.0.1, POST ``payload`` to /invocations, stop."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            model_uri,
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=project.path,
        env={**os.environ, "MLFLOW_TRACKING_URI": project.tracking_uri},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"server did not start: {server.stderr.read().decode()[-2000:]}"
                    )
                time.sleep(0.5)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["predictions"]
    finally:
        stop_group(server)


def test_boston_model_is_registered_tagged_and_serves_raw_features(project):
    run = project.run_pipeline("boston_kfold", "--params", BOSTON_QUICK)
    client = project.mlflow()
    (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert version.name == "boston_kfold"
    assert float(version.tags["test_mae"]) == pytest.approx(
        run.data.metrics["test_mae"]
    )
    assert run.info.run_name == "boston_kfold training.epochs=3,final_epochs=2"

    raw_house = [
        [0.1, 12.5, 7.9, 0.0, 0.52, 6.2, 65.0, 4.1, 5.0, 300.0, 18.5, 390.0, 12.0]
    ]
    predictions = _predict(
        project, f"models:/boston_kfold/{version.version}", {"inputs": raw_house}
    )
    assert len(predictions) == 1 and len(predictions[0]) == 1


def test_imdb_raw_text_model_serves_predictions_for_review_text(project):
    run = project.run_pipeline("imdb", "--env=raw_text", "--params", IMDB_QUICK)
    (version,) = project.mlflow().search_model_versions(f"run_id = '{run.info.run_id}'")
    assert version.name == "imdb" and "test_accuracy" in version.tags
    predictions = _predict(
        project,
        f"models:/imdb/{version.version}",
        {"inputs": ["A wonderful film, great acting.", "Awful and boring."]},
    )
    assert len(predictions) == 2
    assert all(0 <= p[0] <= 1 for p in predictions)
