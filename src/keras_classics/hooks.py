"""Project hooks: pipelines shaped by the run's parameters; one MLflow experiment per
pipeline, one run per ``kedro run``, registered model versions tagged with the run's
test metrics.

kedro-mlflow starts and ends the run and logs node parameters under the sequential and
thread runners. These hooks add what a multi-process runner needs: parameters logged
once, from the main process, before any node runs; and the run's id and tracking URI
exported to worker processes, so that datasets saved there log into the same run
instead of starting new ones.
"""

from __future__ import annotations

import os
from typing import Any

import mlflow
from kedro.framework import project
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro_mlflow.framework.hooks.utils import _flatten_dict

RUN_ENVIRONMENT = ("MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI")


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


class PipelineShapeHook:
    """Rebuilds the pipelines from the session's parameters, before Kedro reads them.

    ``boston_kfold.k``, ``imdb.input`` and ``mnist.dataset`` decide which nodes exist, so
    ``kedro run --params boston_kfold.k=5`` or ``--env raw_text`` must reach
    ``register_pipelines``, which Kedro calls without arguments: it reads them here.
    """

    run_parameters: dict[str, Any] | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        PipelineShapeHook.run_parameters = context.config_loader["parameters"]
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
        # that a notebook in notebooks/ and `kedro run` share one store. An explicit
        # MLFLOW_TRACKING_URI, or a URI written in an env's mlflow.yml, still wins.
        default_store = (context.project_path / "mlflow.db").as_posix()
        os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{default_store}")

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        config = getattr(self._context, "mlflow", None)
        if config is None or mlflow.active_run():
            return  # tracking disabled, or an orchestrator's run is reused as it is
        config.tracking.experiment.name = pipeline_label(run_params)
        config._set_experiment()  # kedro-mlflow's own create-or-get, for the new name
        if config.tracking.run.name is None:
            config.tracking.run.name = run_name(run_params)


class MlflowRunHook:
    """Logs parameters once per run and shares the run with worker processes."""

    def __init__(self) -> None:
        self._saved_environment: dict[str, str | None] = {}
        self._run_id: str | None = None

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog) -> None:
        run = mlflow.active_run()
        if run is None:
            return
        self._run_id = run.info.run_id
        mlflow.set_tag("pipeline", pipeline_label(run_params))
        mlflow.log_params(_flatten_dict(self._parameters(run_params, catalog), sep="."))
        self._saved_environment = {
            name: os.environ.get(name) for name in RUN_ENVIRONMENT
        }
        os.environ["MLFLOW_RUN_ID"] = run.info.run_id
        os.environ["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()

    @staticmethod
    def _parameters(run_params: dict[str, Any], catalog) -> dict[str, Any]:
        """Every parameter of the pipelines being run (all of them for the default),
        including those that only shape the graph, such as ``imdb.input``."""
        parameters = catalog.load("parameters")
        names = pipeline_label(run_params).split("+")
        if "__default__" in names:
            return parameters
        return {name: parameters[name] for name in names if name in parameters}

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._restore_environment()
        if self._run_id:
            tag_registered_versions(self._run_id)

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._restore_environment()

    def _restore_environment(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}
