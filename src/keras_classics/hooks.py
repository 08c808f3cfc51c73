"""Project hooks: pipelines shaped by the run's parameters; one MLflow experiment per
pipeline, one run per ``kedro run``, registered model versions tagged with the run's
test metrics.

kedro-mlflow starts and ends the run. These hooks add what a multi-process runner
needs: parameters logged once, from the main process, before any node runs (instead of
kedro-mlflow's logging per node); and the run's id and tracking URI
exported to worker processes, so that datasets saved there log into the same run
instead of starting new ones; parameters validated before the run starts; and a run
stopped by Ctrl-C or ``kill`` recorded as KILLED.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework import project
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro_mlflow.framework.hooks import MlflowHook
from kedro_mlflow.framework.hooks.utils import _flatten_dict
from mlflow.entities import Param, RunStatus

from keras_classics.context import configured_sweeps
from keras_classics.core.parameters import validate
from keras_classics.pipelines import PARAMETER_SCHEMAS
from keras_classics.sweeps import VARIANT_TAG

RUN_ENVIRONMENT = ("MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
logger = logging.getLogger(__name__)


class RunEndedError(RuntimeError):
    """A node was to run after the ``kedro run``'s MLflow run had ended."""


def pipeline_label(run_params: dict[str, Any]) -> str:
    """``boston_kfold`` for ``kedro run --pipeline=boston_kfold``."""
    names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
    return "+".join(name or "__default__" for name in names)


def tag_registered_versions(run_id: str) -> None:
    """Tag the model versions a run registered with the run's test metrics."""
    client = mlflow.MlflowClient()
    metrics = client.get_run(run_id).data.metrics
    tests = {name: value for name, value in metrics.items() if name.startswith("test_")}
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        for name, value in tests.items():
            client.set_model_version_tag(
                version.name, version.version, name, str(value)
            )


class ParameterValidationHook:
    """Checks the parameters of the pipelines being run against their schemas
    (``pipelines/<name>/parameters.py``) before anything runs: before kedro-mlflow
    starts a run, any data is loaded or a model is built."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog) -> None:
        names = pipeline_label(run_params).split("+")
        if "__default__" in names:
            names = list(PARAMETER_SCHEMAS)
        sweeps = configured_sweeps(PipelineShapeHook.config_loader)
        validate(
            catalog.load("parameters"),
            PARAMETER_SCHEMAS,
            [name for name in names if name in PARAMETER_SCHEMAS],
            extra_keys=("run_name", *sweeps),
            variants={
                f"{name}.{variant}.{sweeps[name].pipeline}": sweeps[name].pipeline
                for name in names
                if name in sweeps
                for variant in sweeps[name].overrides()
            },
        )


class PipelineShapeHook:
    """Rebuilds the pipelines from the session's parameters, before Kedro reads them.

    ``boston_kfold.k``, ``imdb.input`` and ``mnist.dataset`` decide which nodes exist, so
    ``kedro run --params boston_kfold.k=5`` or ``--env raw_text`` must reach
    ``register_pipelines``, which Kedro calls without arguments: it reads them here.
    """

    config_loader = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        PipelineShapeHook.config_loader = context.config_loader
        # Rebuilt on next use (the package name is known once the project is configured).
        project.pipelines.configure(f"{project.PACKAGE_NAME}.pipeline_registry")


def run_name(run_params: dict[str, Any]) -> str:
    """A name that tells runs apart in the MLflow UI: ``run_name`` when given with
    ``--params``, else the pipeline with its environment and ``--params`` overrides,
    e.g. ``boston_kfold k=5,seed=1``."""
    overrides = _flatten_dict(dict(run_params.get("runtime_params") or {}), sep=".")
    if "run_name" in overrides:
        return str(overrides["run_name"])
    label = pipeline_label(run_params)
    changes = [
        f"{key.removeprefix(label + '.')}={value}" for key, value in overrides.items()
    ]
    if run_params.get("env") not in (None, "local"):
        changes.insert(0, f"env={run_params['env']}")
    return " ".join([label, ",".join(changes)]) if changes else label


def create_store(path: Path, experiment: str) -> None:
    """Create the SQLite store at ``path`` with ``experiment`` in it, one process at a
    time (a lock on ``<path>-lock``); a no-op once they exist.

    MLflow creates a new store's tables, and kedro-mlflow its first experiment, with
    no guard against another process doing the same at the same moment: two ``kedro
    run`` started together would fail with "duplicate column", "table ... already
    exists" or "Experiment ... already exists".
    """
    with path.with_name(f"{path.name}-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        client = mlflow.MlflowClient(f"sqlite:///{path.as_posix()}")
        if client.get_experiment_by_name(experiment) is None:
            client.create_experiment(experiment)


def set_experiment(config) -> None:
    """kedro-mlflow's create-or-get of ``config``'s experiment; when another process
    creates it between the get and the create, the second attempt gets it."""
    try:
        config._set_experiment()
    except mlflow.exceptions.MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        config._set_experiment()


class MlflowExperimentHook:
    """Points kedro-mlflow at the experiment named after the pipeline being run, and
    names the run after what differs from the defaults."""

    def __init__(self) -> None:
        self._context: KedroContext | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        self._context = context
        # mlflow.yml's default, sqlite:///mlflow.db, is relative to the working
        # directory: anchor it at the project root (before kedro-mlflow reads it), so
        # that a notebook in notebooks/ and `kedro run` share one store. Any other URI
        # (MLFLOW_TRACKING_URI, or an env's mlflow.yml such as conf/team) is left as is.
        mlflow_yml = context.config_loader["mlflow"]
        if mlflow_yml["server"]["mlflow_tracking_uri"] == "sqlite:///mlflow.db":
            default_store = context.project_path / "mlflow.db"
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{default_store.as_posix()}"
            # mlflow.yml's placeholder experiment, created by kedro-mlflow at start-up.
            create_store(default_store, mlflow_yml["tracking"]["experiment"]["name"])

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        config = getattr(self._context, "mlflow", None)
        if config is None or mlflow.active_run():
            return  # tracking disabled, or an orchestrator's run is reused as it is
        config.tracking.experiment.name = pipeline_label(run_params)
        set_experiment(
            config
        )  # kedro-mlflow's create-or-get, safe against a concurrent run
        if config.tracking.run.name is None:
            config.tracking.run.name = run_name(run_params)


def start_variant_runs(run, names: list[str], parameters: dict[str, Any]) -> list[str]:
    """A nested run per variant of the sweeps among ``names``, under ``run``, named
    after the variant and its overrides, with the variant's parameters (flattened as
    for a plain run of its pipeline, so runs compare side by side); their ids."""
    client = mlflow.MlflowClient()
    sweeps = configured_sweeps(PipelineShapeHook.config_loader)
    run_ids = []
    for name in (name for name in names if name in sweeps):
        sweep = sweeps[name]
        for variant, section in parameters[name].items():
            changes = ",".join(f"{k}={v}" for k, v in section["overrides"].items())
            child = client.create_run(
                run.info.experiment_id,
                run_name=f"{name}.{variant} {changes}",
                tags={
                    "mlflow.parentRunId": run.info.run_id,
                    VARIANT_TAG: f"{name}.{variant}",
                    "pipeline": sweep.pipeline,
                },
            )
            flat = _flatten_dict({sweep.pipeline: section[sweep.pipeline]}, sep=".")
            params = [Param(key, str(value)) for key, value in flat.items()]
            for start in range(0, len(params), 100):  # MLflow's limit per request
                client.log_batch(child.info.run_id, params=params[start : start + 100])
            run_ids.append(child.info.run_id)
    return run_ids


def _end_runs_as_killed(number: int, frame, owner: int) -> None:
    """Ctrl-C or ``kill``: mark the MLflow runs KILLED (not FINISHED, as MLflow's exit
    handler would), then stop like Ctrl-C, so every ``finally`` cleans up.

    Only the ``owner`` process (``kedro run``'s) ends the runs. Worker processes forked
    from it inherit this handler, and a terminal's Ctrl-C reaches them too: they only
    stop their node, keeping the run active in them (see ``KedroMlflowHook``).
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


class KedroMlflowHook(MlflowHook):
    """kedro-mlflow's hook, registered in place of its plugin entry point
    (``settings.DISABLE_HOOKS_FOR_PLUGINS``), without its parameter logging per node.

    ``MlflowRunHook`` logs every parameter once per run, flattened the same way; kedro-
    mlflow's node hook logs each node's parameters again and re-opens the run as a
    nested one, a write per parameter and a read and a write of the run for every
    node (for a sweep, it also logs all variants' parameters into the sweep's run,
    where they do not belong). Here a node only makes the run active where it is not:
    a worker process's or thread's first node. A run that has ended meanwhile (the
    ``kedro run`` process was stopped) is not resumed - ``mlflow.start_run`` would
    mark it RUNNING again, for ever - and the node does not run.
    """

    @hook_impl
    def before_node_run(self, node) -> None:
        if self.run_id is None or mlflow.active_run() is not None:
            return
        status = mlflow.MlflowClient().get_run(self.run_id).info.status
        if status != RunStatus.to_string(RunStatus.RUNNING):
            raise RunEndedError(
                f"MLflow run {self.run_id} has ended ({status}): node {node.name} "
                "does not run."
            )
        mlflow.start_run(run_id=self.run_id)


class MlflowRunHook:
    """Logs parameters once per run and shares the run with worker processes."""

    def __init__(self) -> None:
        self._saved_environment: dict[str, str | None] = {}
        self._run_id: str | None = None
        self._saved_handlers: dict[int, Any] = {}
        self._variant_runs: list[str] = []

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog) -> None:
        run = mlflow.active_run()
        if run is None:
            return
        self._run_id = run.info.run_id
        mlflow.set_tag("pipeline", pipeline_label(run_params))
        mlflow.log_params(_flatten_dict(self._parameters(run_params, catalog), sep="."))
        self._variant_runs = start_variant_runs(
            run, pipeline_label(run_params).split("+"), catalog.load("parameters")
        )
        self._saved_environment = {
            name: os.environ.get(name) for name in RUN_ENVIRONMENT
        }
        os.environ["MLFLOW_RUN_ID"] = run.info.run_id
        os.environ["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()
        if threading.current_thread() is threading.main_thread():  # signal's rule
            handler = functools.partial(_end_runs_as_killed, owner=os.getpid())
            self._saved_handlers = {
                number: signal.signal(number, handler) for number in STOP_SIGNALS
            }

    @staticmethod
    def _parameters(run_params: dict[str, Any], catalog) -> dict[str, Any]:
        """Every parameter of the pipelines being run (all of them for the default),
        including those that only shape the graph, such as ``imdb.input``; for a
        sweep, its definition (each variant's parameters go to its nested run)."""
        parameters = catalog.load("parameters")
        sweeps = configured_sweeps(PipelineShapeHook.config_loader)
        names = pipeline_label(run_params).split("+")
        if "__default__" in names:
            return {
                name: value for name, value in parameters.items() if name not in sweeps
            }
        return {
            name: vars(sweeps[name]) if name in sweeps else parameters[name]
            for name in names
            if name in parameters
        }

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._end_variant_runs(RunStatus.FINISHED)
        self._restore_environment()
        if self._run_id:
            tag_registered_versions(self._run_id)

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._end_variant_runs(RunStatus.FAILED)
        self._restore_environment()

    def _end_variant_runs(self, status: int) -> None:
        client = mlflow.MlflowClient()
        for run_id in self._variant_runs:
            client.set_terminated(run_id, RunStatus.to_string(status))
        self._variant_runs = []

    def _restore_environment(self) -> None:
        for number, handler in self._saved_handlers.items():
            signal.signal(number, handler)
        self._saved_handlers = {}
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}
