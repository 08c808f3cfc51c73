"""Servers the tests start for real: on 127.0.0.1, a free port, in their own process
group, stopped whatever happens."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


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


def free_port(below: int = 65536) -> int:
    """A free port on 127.0.0.1 under ``below`` (kedro-viz refuses ports above 49151;
    the system's own choice is often one of those)."""
    while True:
        with socket.socket() as probe, contextlib.suppress(OSError):  # taken: again
            port = 0 if below > 65535 else random.randrange(20000, below)
            probe.bind(("127.0.0.1", port))
            return probe.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(folder: Path, backend_store_uri: str, *options: str) -> Iterator[str]:
    """``mlflow server`` on ``backend_store_uri``; yields its URL once healthy. Its
    output goes to ``folder/server.log``, shown if it fails to start."""
    port, log = free_port(), folder / "server.log"
    with log.open("w") as output:
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
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                alive = process.poll() is None and time.monotonic() < deadline
                assert alive, log.read_text()[-3000:]
                time.sleep(0.5)
        yield url
    finally:
        stop_group(process)
