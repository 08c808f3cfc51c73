"""A throwaway copy of the Kedro project for end-to-end runs, and its MLflow store."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[1]
# The real datasets: the project's own offline-mirror setting when it is set (as
# .ci/run sets it), else the shared folder beside the checkout.
# Colours, styles and hyperlinks, as rich writes them to a terminal.
ANSI_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\]8;[^\x1b]*\x1b\\")
REAL_DATASETS = Path(
    os.environ.get("KERAS_CLASSICS_MIRROR") or REPO.parent / "shared" / "datasets"
)


def needs_real_data(*files: str) -> pytest.MarkDecorator:
    """Skip unless ``files`` (paths inside the mirror) are in ``REAL_DATASETS``."""
    missing = [name for name in files if not (REAL_DATASETS / name).is_file()]
    source = (
        "KERAS_CLASSICS_MIRROR"
        if os.environ.get("KERAS_CLASSICS_MIRROR")
        else "../shared/datasets, as KERAS_CLASSICS_MIRROR is not set"
    )
    return pytest.mark.skipif(
        bool(missing),
        reason=f"needs the real {', '.join(missing)} in {REAL_DATASETS} ({source}): "
        "set KERAS_CLASSICS_MIRROR to a folder of Keras' dataset files",
    )


class Running:
    """A ``kedro`` process started in the background, its output (stdout and stderr)
    read line by line as it comes, so that a test can wait for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self._incoming: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._incoming.put(line)
        self._incoming.put(None)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The first line (from now) that contains ``text``; fails after ``timeout``
        seconds, or if the process ends first."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._incoming.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(
                    f"kedro ended before printing {text!r}:\n{self.output[-3000:]}"
                )
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output[-3000:]}")

    def interrupt(self) -> None:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group (worker
        processes included)."""
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = 120) -> int:
        """Wait for the process to end and for all of its output; its exit code. A
        process still running after ``timeout`` seconds is killed, with its group."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
        while (line := self._incoming.get(timeout=timeout)) is not None:
            self.lines.append(line)
        return self.process.returncode

    @property
    def output(self) -> str:
        return "".join(self.lines)


@dataclass
class Project:
    """A project folder: this repo's conf/ and pyproject.toml, empty data/."""

    path: Path

    @classmethod
    def copy_of_repo(cls, path: Path) -> Project:
        shutil.copytree(
            REPO / "conf", path / "conf", ignore=shutil.ignore_patterns("local")
        )
        (path / "conf" / "local").mkdir()
        shutil.copy(REPO / "pyproject.toml", path)
        # Kedro wants a source folder; the package itself is the installed one.
        (path / "src").mkdir()
        for layer in (
            "01_raw",
            "02_intermediate",
            "04_feature",
            "06_models",
            "08_reporting",
        ):
            (path / "data" / layer).mkdir(parents=True)
        return cls(path)

    @classmethod
    def with_boston_data(cls, path: Path) -> Project:
        """A copy whose ``data/01_raw`` holds a synthetic ``boston_housing.npz``, listed
        in a ``SHA256SUMS`` beside it."""
        from tests.synthetic import sha256, write_boston_npz  # noqa: PLC0415

        project = cls.copy_of_repo(path)
        npz = project.raw / "boston_housing.npz"
        write_boston_npz(npz)
        (project.raw / "SHA256SUMS").write_text(f"{sha256(npz)}  boston_housing.npz\n")
        return project

    @classmethod
    def with_imdb_data(cls, path: Path) -> Project:
        """A copy whose ``data/01_raw`` holds a small synthetic ``imdb.npz`` (150
        training and 60 test reviews, 60 words) and its word index, listed in a
        ``SHA256SUMS`` beside them."""
        from tests.synthetic import (  # noqa: PLC0415
            sha256,
            write_sequences_npz,
            write_word_index,
        )

        project = cls.copy_of_repo(path)
        write_sequences_npz(project.raw / "imdb.npz", 150, 60, 60, kind="imdb")
        write_word_index(project.raw / "imdb_word_index.json", 60)
        (project.raw / "SHA256SUMS").write_text(
            "".join(
                f"{sha256(project.raw / name)}  {name}\n"
                for name in ("imdb.npz", "imdb_word_index.json")
            )
        )
        return project

    def set_parameters(self, pipeline: str, **values) -> None:
        """Override some of ``pipeline``'s parameters in ``conf/local`` - as a user sets
        those that shape the graph, such as ``k``, which ``--params`` can't change."""
        import yaml  # noqa: PLC0415

        (self.path / "conf" / "local" / f"parameters_{pipeline}.yml").write_text(
            yaml.safe_dump({pipeline: values})
        )

    @property
    def raw(self) -> Path:
        return self.path / "data" / "01_raw"

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.path / 'mlflow.db'}"

    def kedro(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 600
    ):
        """Run ``kedro <args>`` here; returns the completed process (never raises)."""
        return self.python("-m", "kedro", *args, env=env, timeout=timeout)

    def start(self, *args: str, env: dict[str, str] | None = None) -> Running:
        """Start ``kedro <args>`` here without waiting (its output unbuffered)."""
        return Running(
            subprocess.Popen(
                [sys.executable, "-m", "kedro", *args],
                cwd=self.path,
                env=self._environment({"PYTHONUNBUFFERED": "1", **(env or {})}),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # a process group of its own, as in a terminal
            )
        )

    def in_terminal(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 600
    ) -> tuple[int, str]:
        """Run ``kedro <args>`` here on a pseudo-terminal, as a user would (POSIX
        only); its exit code and what the terminal showed, colours removed."""
        import pty  # noqa: PLC0415 (POSIX only: tests that use it run on Linux)

        terminal, program_side = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "kedro", *args],
            cwd=self.path,
            env=self._environment(env),
            stdin=program_side,
            stdout=program_side,
            stderr=program_side,
        )
        os.close(program_side)
        shown = bytearray()
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # EIO: the program's side is closed
                break
            if not chunk:
                break
            shown += chunk
        process.wait(timeout=timeout)
        os.close(terminal)
        text = shown.decode(errors="replace").replace("\r\n", "\n")
        return process.returncode, ANSI_ESCAPES.sub("", text)

    def python(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 600
    ):
        """Run ``python <args>`` here, in the environment of ``kedro``; returns the
        completed process (never raises)."""
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.path,
            env=self._environment(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _environment(self, env: dict[str, str] | None) -> dict[str, str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MLFLOW_", "KERAS_CLASSICS_", "PYTEST_"))
        }
        return environment | {
            "KEDRO_DISABLE_TELEMETRY": "1",
            "KERAS_HOME": str(self.path / "keras_home"),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "COLUMNS": "400",  # rich wraps log lines and errors at the console width
            **(env or {}),
        }

    def mlflow(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)

    def run_pipeline(
        self, pipeline: str, *args: str, env: dict[str, str] | None = None
    ):
        """``kedro run --pipeline=<pipeline> <args>``; asserts success and returns the
        one MLflow run it added to the pipeline's experiment (besides nested runs)."""
        before = {run.info.run_id for run in self.runs(pipeline)}
        done = self.kedro("run", f"--pipeline={pipeline}", *args, env=env)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        self.console = done.stdout + done.stderr
        new = [
            run
            for run in self.runs(pipeline)
            if run.info.run_id not in before
            and "mlflow.parentRunId" not in run.data.tags
        ]
        assert len(new) == 1, f"expected one new MLflow run, got {len(new)}"
        return new[0]

    def run_on_real_data(self, pipeline: str, *args: str):
        """``run_pipeline`` with the real datasets as the offline mirror."""
        mirror = {"KERAS_CLASSICS_MIRROR": str(REAL_DATASETS)}
        return self.run_pipeline(pipeline, *args, env=mirror)

    def history(self, run, key: str) -> list[float]:
        """A metric ``run`` logged per epoch, in epoch order."""
        metrics = self.mlflow().get_metric_history(run.info.run_id, key)
        return [m.value for m in sorted(metrics, key=lambda m: m.step)]

    def saved_model(self, pipeline: str):
        """The final Keras model as the pipeline saved it, before any packaging."""
        import keras  # noqa: PLC0415 (TensorFlow, for the tests that need it)

        return keras.saving.load_model(
            self.path / "data" / "06_models" / pipeline / "model.keras"
        )

    def logged_model(self, run):
        """The model ``run`` logged, loaded with ``mlflow.pyfunc.load_model``."""
        (model,) = self.mlflow().search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'",
        )
        mlflow.set_tracking_uri(self.tracking_uri)
        try:
            return mlflow.pyfunc.load_model(model.model_uri)
        finally:
            mlflow.set_tracking_uri(None)

    def runs(self, experiment: str):
        client = self.mlflow()
        found = client.get_experiment_by_name(experiment)
        return client.search_runs([found.experiment_id]) if found else []


# What a user should not see of a `kedro run`: third-party warnings and deprecations,
# TensorFlow's C++ lines, telemetry errors (issue 14).
CONSOLE_NOISE = ("WARNING", "Warning", "DEPRECAT", "I0000", "E0000", "Heap", "absl")


def assert_console_for_people(
    console: str, run, *metrics: str, progress: bool = True
) -> None:
    """``console`` (``Project.console``) shows no noise, training progress (unless
    training ran elsewhere: ``progress=False``), and ends with ``run``'s ``metrics``
    and its id."""
    lines = console.splitlines()
    assert [line for line in lines if any(n in line for n in CONSOLE_NOISE)] == []
    if progress:
        assert any(re.search(r": epoch \d+/\d+, ", line) for line in lines)
    end = "\n".join(lines[-25:])
    for metric in metrics:
        assert f"{metric} {run.data.metrics[metric]:.4f}" in end, end
    assert run.info.run_id in end
