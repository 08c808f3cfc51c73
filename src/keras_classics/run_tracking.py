"""kedro-mlflow's hook made to track a whole ``kedro run`` in one MLflow run, and what
it logs besides: the run's raw files as dataset inputs, its registered versions' test
metrics, and the results summary at the end of the console.

Imported by ``keras_classics.hooks.MlflowTrackingHook`` at its first call, so that Kedro
commands which run no pipeline do not import MLflow.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
from filelock import FileLock
from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro_mlflow.framework.hooks import MlflowHook
from mlflow.entities import Dataset, DatasetInput, InputTag, RunStatus, RunTag
from mlflow.exceptions import MlflowException

from keras_classics import backends, compat, signals
from keras_classics.backends import TRACKING_KEY
from keras_classics.context import configured_sweeps
from keras_classics.core.tracking import NestedRuns, active_run_id
from keras_classics.hooks import (
    RUN_ENVIRONMENT,
    RunEndedError,
    flatten,
    pipeline_label,
    pipeline_names,
    run_name,
)
from keras_classics.sweeps import VARIANT_TAG
from keras_classics.tracking_store import (
    check_store,
    lost_server_message,
    quick_requests,
    uri_source,
)
from keras_classics.tuning import TUNE

# MLflow's experiment kind: its UI opens these experiments in the model-training view.
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
# The alias of the registered version to predict with (conf/base/champions.yml).
CHAMPION = "champion"
# MLflow's store keeps at most 36 characters of a dataset's digest: sha256's first 16.
DIGEST_LENGTH = 16
logger = logging.getLogger(__name__)


def log_dataset_inputs(run_id: str, datasets: Mapping[str, Any]) -> None:
    """Record the raw files ``datasets`` were read from as the run's MLflow dataset
    inputs: name, source (the file), digest (the sha256's first 16 hex digits) and
    the whole sha256 in the dataset's profile."""
    inputs = [
        DatasetInput(
            Dataset(
                name=name,
                digest=(loaded.sha256 or "folder")[:DIGEST_LENGTH],
                source_type="local",
                source=json.dumps({"uri": loaded.path.as_uri()}),
                profile=json.dumps({"sha256": loaded.sha256}),
            ),
            tags=[InputTag("mlflow.data.context", "raw")],
        )
        for name, dataset in datasets.items()
        for loaded in getattr(dataset, "loaded_files", [])
    ]
    if not inputs:
        return
    client = mlflow.MlflowClient()
    try:
        client.log_inputs(run_id, datasets=inputs)
    except MlflowException:
        # Another process logged the same file at the same moment (a sweep's variants
        # under a parallel runner): MLflow's get-or-create of the dataset raced, and
        # its insert failed on the unique (experiment, name, digest). Now it gets.
        client.log_inputs(run_id, datasets=inputs)


def tag_registered_versions(run_id: str) -> None:
    """Tag the model versions a run registered with the run's test metrics and the
    parameters that shaped its pipeline (``imdb.input``: which variant it is)."""
    from keras_classics.pipeline_registry import graph_parameters  # noqa: PLC0415
    from keras_classics.pipelines import PIPELINES  # noqa: PLC0415

    client = mlflow.MlflowClient()
    data = client.get_run(run_id).data
    tags = {
        name: value for name, value in data.metrics.items() if name.startswith("test_")
    }
    pipeline = data.tags.get("pipeline")
    if pipeline in PIPELINES:
        for key in graph_parameters(pipeline):
            if f"{pipeline}.{key}" in data.params:
                tags[f"{pipeline}.{key}"] = data.params[f"{pipeline}.{key}"]
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        for name, value in tags.items():
            client.set_model_version_tag(
                version.name, version.version, name, str(value)
            )


def crown_champions(run_id: str, rules: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Give the alias ``champion`` to each version the run registered whose test
    metric (``rules[<registered model>]``: ``metric``, ``goal``) beats the current
    champion's, or to the first version; what happened, for the console."""
    client = mlflow.MlflowClient()
    metrics = client.get_run(run_id).data.metrics
    lines = []
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        rule = rules.get(version.name)
        if rule is None or rule["metric"] not in metrics:
            continue
        metric, value = rule["metric"], metrics[rule["metric"]]
        try:
            champion = client.get_model_version_by_alias(version.name, CHAMPION)
        except MlflowException:  # no champion yet
            champion = None
        best = (
            client.get_run(champion.run_id).data.metrics.get(metric)
            if champion
            else None
        )
        if best is None or (
            value < best if rule["goal"] == "minimize" else value > best
        ):
            client.set_registered_model_alias(version.name, CHAMPION, version.version)
            was = f", over version {champion.version}'s {best:.4f}" if champion else ""
            lines.append(
                f"{version.name} version {version.version} is now {CHAMPION} "
                f"({metric} {value:.4f}{was})"
            )
        else:
            lines.append(
                f"{version.name} {CHAMPION} stays version {champion.version} "
                f"({metric} {best:.4f}; version {version.version}: {value:.4f})"
            )
    return lines


@contextmanager
def store_lock(tracking_uri: str):
    """One process at a time creating a SQLite store's tables or experiments (a lock
    on ``<store>-lock``); nothing for a server, which serialises them itself.

    MLflow creates a new store's tables, and an experiment, with no guard against
    another process doing the same at the same moment: two ``kedro run`` started
    together would fail with "duplicate column", "table ... already exists" or
    "Experiment ... already exists".
    """
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    store = Path(tracking_uri.removeprefix("sqlite:///"))
    store.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(store.with_name(f"{store.name}-lock")):
        yield


def results_summary(run_id: str, pipeline, catalog) -> list[str]:
    """What the run found, for the end of the console: each pipeline's final figures
    (its ``metrics_json``) or a sweep's best variant, where the files are, and how to
    open the MLflow run."""
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    outputs = sorted(pipeline.all_outputs())
    lines = []
    for name in outputs:
        namespace, _, dataset = name.partition(".")
        if dataset == "metrics_json":
            figures = catalog.load(name)
            lines.append(
                f"{namespace}: "
                + ", ".join(f"{key} {_figure(value)}" for key, value in figures.items())
            )
            lines.append(
                f"  files: data/06_models/{namespace}/, data/08_reporting/{namespace}/"
            )
        elif dataset == "predictions":
            table = catalog.load(name)
            lines.append(
                f"{namespace}: {len(table)} predictions in "
                f"data/07_model_output/{namespace.removesuffix('_predict')}/"
                "predictions.csv"
            )
        elif dataset == "best_variant":
            best = catalog.load(name)
            lines.append(
                f"{namespace}: best {best['variant']}, {best['metric']} "
                f"{_figure(best['value'])} ({best['overrides']}); "
                f"all variants: data/08_reporting/{namespace}/sweep_summary.csv"
            )
        elif dataset == "best_parameters":
            metrics = run.data.metrics
            metric = run.data.params.get(f"{namespace}.metric", "value")
            counts = ", ".join(
                f"{int(metrics[f'{state}_trials'])} {state}"
                for state in ("complete", "pruned", "failed")
            )
            lines.append(
                f"{namespace}: best trial {int(metrics['best_trial'])}, "
                f"{metric} {_figure(metrics['best_value'])} (study: "
                f"{counts}); its parameters: data/08_reporting/{namespace}/"
                f"best_parameters.yml - copy to conf/local/parameters_"
                f"{namespace.removesuffix(TUNE)}.yml to train with them"
            )
    uri = mlflow.get_tracking_uri()
    server = uri.rstrip("/") if uri.startswith(("http://", "https://")) else None
    site = server or "http://127.0.0.1:5000"
    experiment = f"{site}/#/experiments/{run.info.experiment_id}"
    if server is None:
        lines.append(f"Open MLflow: mlflow ui --backend-store-uri {uri}")
    lines.append(
        f"MLflow run {run.info.run_name!r} ({run_id}): {experiment}/runs/{run_id}"
    )
    # MLflow 3.17's UI opens experiments in its GenAI view unless told otherwise.
    lines.append(f"All runs: {experiment}/runs?workflowType=machine_learning")
    return lines


def _champion_rules(config_loader) -> dict[str, Any]:
    """``conf/<env>/champions.yml``: per registered model, the metric and its goal."""
    try:
        return dict(config_loader["champions"])
    except MissingConfigException:
        return {}


def _figure(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


class RunTracking(MlflowHook):
    """kedro-mlflow's hook (``keras_classics.hooks.MlflowTrackingHook`` calls it, in
    place of kedro-mlflow's plugin entry point: see ``settings.py``), made to track a whole ``kedro run`` in one MLflow run across
    processes:

    - the run goes to the experiment named after the pipeline being run (when
      mlflow.yml names none), and is named after what differs from the defaults
      (when it names none: ``run.name``, or ``--params run_name=...``);
    - every parameter of the pipelines being run is logged once, from the ``kedro
      run`` process, before any node runs, instead of each node's again at every node;
    - a sweep's variants get a nested run each, ended with the sweep's;
    - worker processes get the run's id and tracking URI (``MLFLOW_RUN_ID``,
      ``MLFLOW_TRACKING_URI``), so that what they log goes to the same run; a worker's
      first node makes the run active there, unless the run has ended meanwhile;
    - Ctrl-C or ``kill`` ends the run KILLED (``keras_classics.signals``);
    - model versions the run registered are tagged with its test metrics.
    """

    def __init__(self) -> None:
        super().__init__()
        self._experiment_per_pipeline = True
        self._saved_environment: dict[str, str | None] = {}
        self._saved_handlers: dict[int, Any] = {}
        self._variant_runs: list[str] = []
        self._sweeps: dict[str, Any] = {}
        self._logged_inputs: set[tuple[str, str]] = set()
        self._champions: dict[str, Any] = {}

    def after_context_created(self, context: KedroContext) -> None:
        mlflow_yml = context.config_loader["mlflow"]
        experiment = mlflow_yml.get("tracking", {}).get("experiment", {})
        self._experiment_per_pipeline = experiment.get("name") is None
        self._sweeps = configured_sweeps(context.config_loader)
        self._champions = _champion_rules(context.config_loader)
        self.run_id = None
        server = mlflow_yml["server"]
        for role, uri in (
            ("tracking", server["mlflow_tracking_uri"]),
            ("registry", server.get("mlflow_registry_uri")),
        ):
            if uri:
                source = uri_source(uri, context.config_loader.conf_source, context.env)
                check_store(uri, source=source, role=role)
        with store_lock(server["mlflow_tracking_uri"]):
            super().after_context_created(context)

    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline, catalog
    ) -> None:
        self.run_id = None
        config = self.mlflow_config
        if mlflow.active_run() is None:  # else an orchestrator's run, used as it is
            if self._experiment_per_pipeline:
                config.tracking.experiment.name = pipeline_label(run_params)
                with store_lock(config.server.mlflow_tracking_uri):
                    compat.set_experiment(config)
                experiment = mlflow.get_experiment_by_name(pipeline_label(run_params))
                for key, value in EXPERIMENT_KIND.items():
                    if experiment.tags.get(key) != value:
                        mlflow.MlflowClient().set_experiment_tag(
                            experiment.experiment_id, key, value
                        )
            if config.tracking.run.name is None:
                config.tracking.run.name = run_name(run_params)
        super().before_pipeline_run(run_params, pipeline, catalog)
        if self.run_id is None:  # tracking disabled for this pipeline
            return
        run = mlflow.active_run()
        parameters = catalog.load("parameters")
        backend = backends.configured_backend()
        mlflow.set_tags({"pipeline": pipeline_label(run_params), TRACKING_KEY: backend})
        mlflow.log_params(
            flatten(self._logged_parameters(run_params, parameters))
            | {TRACKING_KEY: backend}
        )
        self._variant_runs = self._start_variant_runs(
            run, pipeline_names(run_params), parameters
        )
        self._saved_environment = {
            name: os.environ.get(name) for name in RUN_ENVIRONMENT
        }
        os.environ["MLFLOW_RUN_ID"] = run.info.run_id
        os.environ["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()
        self._saved_handlers = signals.end_runs_as_killed_on_stop()

    def _logged_parameters(
        self, run_params: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Every parameter of the pipelines being run (all of them for the default),
        including those that only shape the graph, such as ``imdb.input``; for a
        sweep, its definition (each variant's parameters go to its nested run)."""
        names = pipeline_names(run_params)
        if "__default__" in names:
            return {
                name: value
                for name, value in parameters.items()
                if name not in self._sweeps
            }
        return {
            name: vars(self._sweeps[name]) if name in self._sweeps else parameters[name]
            for name in names
            if name in parameters
        }

    def _start_variant_runs(
        self, run, names: list[str], parameters: Mapping[str, Any]
    ) -> list[str]:
        """A nested run per variant of the sweeps among ``names``, named after the
        variant (a grid's, and its overrides), with the variant's parameters
        (flattened as for a plain run of its pipeline, so runs compare side by side);
        their ids."""
        runs = NestedRuns(run.info.run_id)
        run_ids = []
        for name in (name for name in names if name in self._sweeps):
            sweep = self._sweeps[name]
            for variant, section in parameters[name].items():
                changes = ",".join(f"{k}={v}" for k, v in section["overrides"].items())
                run_ids.append(
                    runs.start(
                        variant if sweep.variants else f"{name}.{variant} {changes}",
                        {VARIANT_TAG: f"{name}.{variant}", "pipeline": sweep.pipeline},
                        flatten({sweep.pipeline: section[sweep.pipeline]}),
                    )
                )
        return run_ids

    def before_node_run(self, node) -> None:
        """Make the run active where it is not - a worker process's or thread's
        first node - instead of kedro-mlflow's re-opening the run and logging the
        node's parameters at every node. A run that has ended meanwhile (the ``kedro
        run`` process was stopped) is not resumed - ``mlflow.start_run`` would mark it
        RUNNING again, for ever - and the node does not run."""
        if self.run_id is None or mlflow.active_run() is not None:
            return
        status = mlflow.MlflowClient().get_run(self.run_id).info.status
        if status != RunStatus.to_string(RunStatus.RUNNING):
            raise RunEndedError(
                f"MLflow run {self.run_id} has ended ({status}): node {node.name} "
                "does not run."
            )
        mlflow.start_run(run_id=self.run_id)

    def after_node_run(self, node, catalog) -> None:
        """The raw files a node read (``KerasRawDataset``'s ``loaded_files``) become
        the run's dataset inputs, from whichever process ran the node, once per
        process (a sweep's variants read the same files)."""
        run_id = active_run_id()
        datasets = {name: catalog.get(name) for name in node.inputs}
        raw = {
            name: dataset
            for name, dataset in datasets.items()
            if getattr(dataset, "loaded_files", None)
            and (run_id, name) not in self._logged_inputs
        }
        if run_id and raw:
            log_dataset_inputs(run_id, raw)
            self._logged_inputs |= {(run_id, name) for name in raw}
        for dataset in datasets.values():  # the model a prediction run used
            if run_id and getattr(dataset, "loaded_model", None):
                mlflow.MlflowClient().log_batch(
                    run_id,
                    tags=[RunTag(k, v) for k, v in dataset.loaded_model.items()],
                )

    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        run_id = self.run_id
        super().after_pipeline_run(run_params, pipeline, catalog)
        self._end_variant_runs(RunStatus.FINISHED)
        self._restore()
        if run_id:
            tag_registered_versions(run_id)
            with store_lock(mlflow.get_tracking_uri()):
                champions = crown_champions(run_id, self._champions)
            for line in [*champions, *results_summary(run_id, pipeline, catalog)]:
                logger.info(line)

    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        if lost_server_message(error):
            # The server went away mid-run: one quick try to mark the runs FAILED,
            # not another round of MLflow's retries; the error tells the user.
            try:
                with quick_requests():
                    self._end_runs_failed(error, run_params, pipeline, catalog)
            except MlflowException:
                logger.warning(
                    "MLflow run %s could not be marked FAILED: the tracking server "
                    "does not answer.",
                    self.run_id,
                )
        else:
            self._end_runs_failed(error, run_params, pipeline, catalog)
        self._restore()

    def _end_runs_failed(self, error, run_params, pipeline, catalog) -> None:
        if self.run_id is not None:
            super().on_pipeline_error(error, run_params, pipeline, catalog)
        self._end_variant_runs(RunStatus.FAILED)

    def _end_variant_runs(self, status: int) -> None:
        client = mlflow.MlflowClient()
        for run_id in self._variant_runs:
            client.set_terminated(run_id, RunStatus.to_string(status))
        self._variant_runs = []

    def _restore(self) -> None:
        signals.restore(self._saved_handlers)
        self._saved_handlers = {}
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}
