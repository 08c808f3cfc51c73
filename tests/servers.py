"""Servers the tests start for real: on 127.0.0.1, a free port, in their own process
group, stopped whatever happens."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.2


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process group ``process`` leads; SIGKILL what is left of it after
    ``timeout`` (children that hung, a dask worker under its nanny...)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, alive=lambda: True
):
    """Poll ``condition`` until it returns something true, and return that; fail
    naming ``what`` after ``timeout`` seconds, or as soon as ``alive()`` is false
    (the process that should make it true has died)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert alive(), f"the process died before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(POLL_SECONDS)
    return result


def answers(url: str) -> bool:
    """Whether an HTTP GET of ``url`` succeeds."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def free_port(below: int = 65536) -> int:
    """A free port on 127.0.0.1 under ``below`` (kedro-viz refuses ports above 49151;
    the system's own choice is often one of those)."""
    while True:
        with socket.socket() as probe, contextlib.suppress(OSError):  # taken: again
            port = 0 if below > 65535 else random.randrange(20000, below)
            probe.bind(("127.0.0.1", port))
            return probe.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(
    folder: Path, backend_store_uri: str, *options: str, port: int | None = None
) -> Iterator[str]:
    """``mlflow server`` on ``backend_store_uri`` (at ``port``, default a free one);
    yields its URL once healthy. Its output goes to ``folder/server.log``, shown if it
    fails to start."""
    port, log = port or free_port(), folder / "server.log"
    with log.open("a") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "mlflow", "server"),
                *("--backend-store-uri", backend_store_uri, *options),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
            ],
            cwd=folder,
            # No job runner (GenAI jobs, unused here): 8 fewer processes, and no
            # huey store left behind in /dev/shm.
            env=os.environ | {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(f"{url}/health", process, log, "mlflow server")
        yield url
    finally:
        stop_group(process)


@contextlib.contextmanager
def model_server(folder: Path, tracking_uri: str, model_uri: str) -> Iterator[str]:
    """``mlflow models serve -m <model_uri>`` from the store at ``tracking_uri``, as
    the README shows it; yields its URL once it answers /ping."""
    port, log = free_port(), folder / "model_server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri),
                *("--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)),
            ],
            cwd=folder,
            env=os.environ | {"MLFLOW_TRACKING_URI": tracking_uri},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(f"{url}/ping", process, log, f"model server for {model_uri}")
        yield url
    finally:
        stop_group(process)


def invocations(url: str, inputs: Any) -> Any:
    """POST ``{"inputs": inputs}`` to a model server's /invocations; its predictions."""
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps({"inputs": inputs}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


def _wait_healthy(
    url: str, process: subprocess.Popen, log: Path, name: str, timeout: float = 120
) -> None:
    try:
        wait_until(
            lambda: answers(url),
            timeout,
            f"answer from {name} at {url}",
            alive=lambda: process.poll() is None,
        )
    except AssertionError as error:
        raise AssertionError(f"{error}; its log:\n{log.read_text()[-3000:]}") from None
