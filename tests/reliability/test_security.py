"""Security defaults: models load in Keras' safe mode, the servers the README starts
listen on loopback only, no credentials in conf/base, local config and the tracking
store stay out of git. (Malicious dataset files: tests/datasets/test_npz.py and
test_idx.py.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import keras
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, DatasetError

from keras_classics.settings import CONFIG_LOADER_ARGS
from tests.project import REPO, Project
from tests.servers import free_port, stop_group, wait_until

SECRET_WORDS = ("password", "secret", "token", "access_key", "api_key")


def test_model_with_python_code_is_refused_by_safe_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = OmegaConfigLoader(str(REPO / "conf"), env="local", **CONFIG_LOADER_ARGS)
    catalog = DataCatalog.from_config(conf["catalog"])
    dataset = catalog["boston_kfold.model"]
    inputs = keras.Input((1,))
    # A Lambda layer is pickled Python: arbitrary code when the model is loaded.
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "data/06_models/boston_kfold/model.keras"
    path.parent.mkdir(parents=True)
    model.save(path)
    with pytest.raises(DatasetError, match="safe_mode"):
        dataset.load()


def test_no_credentials_in_conf_base():
    assert not list((REPO / "conf" / "base").glob("*credentials*"))

    def secrets(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if any(word in str(key).lower() for word in SECRET_WORDS) and value:
                    yield f"{path}{key}"
                yield from secrets(value, f"{path}{key}.")
        elif isinstance(node, list):
            for item in node:
                yield from secrets(item, path)

    for file in (REPO / "conf" / "base").glob("*.yml"):
        assert list(secrets(yaml.safe_load(file.read_text()))) == [], file.name


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")
@pytest.mark.parametrize(
    "path",
    ["conf/local/credentials.yml", "conf/local/mlflow.yml", "mlflow.db", "mlruns/0"],
)
def test_local_config_and_tracking_store_are_git_ignored(path):
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
    assert ignored.returncode == 0, f"{path} is not git-ignored"


def listening_addresses(port: int) -> set[str]:
    """Addresses with a socket listening on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


@pytest.mark.parametrize("server", ["mlflow ui", "kedro viz"])
def test_readme_servers_listen_on_loopback_only(tmp_path, server):
    """The README's commands, without a --host: only 127.0.0.1 can reach them."""
    port = free_port(below=49152)
    project = Project.copy_of_repo(tmp_path)
    command = {
        "mlflow ui": [
            shutil.which("mlflow") or "mlflow",
            "ui",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
            "--port",
            str(port),
        ],
        "kedro viz": [
            sys.executable,
            "-m",
            "kedro",
            "viz",
            "run",
            "--no-browser",
            "--port",
            str(port),
        ],
    }[server]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        command,
        cwd=project.path,
        env=project._environment(None),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        addresses = wait_until(
            lambda: listening_addresses(port),
            120,
            f"socket of {server} listening on port {port}",
            alive=lambda: process.poll() is None,
        )
        assert addresses <= LOOPBACK, addresses
    finally:
        stop_group(process)
        log.close()
