"""The project's two hooks: MLflow tracking, and parameter checks before anything runs.

Neither depends on the other or on the order they are registered in: the parameter
check is ``tryfirst``, so it runs before the tracking hook starts a run, whichever is
registered first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kedro.framework import project
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from pydantic import BaseModel

from keras_classics import backends, tuning
from keras_classics.context import configured_sweeps
from keras_classics.core.parameters import (
    ParameterError,
    PredictParameters,
    raise_if_any,
    validate,
)

if TYPE_CHECKING:
    from keras_classics.run_tracking import RunTracking

# What worker processes need to log into the run (keras_classics.core.tracking).
RUN_ENVIRONMENT = ("MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI")
DEFAULT_RUNNERS = ("SequentialRunner",)


class RunEndedError(RuntimeError):
    """A node was to run after the ``kedro run``'s MLflow run had ended."""


def pipeline_names(run_params: Mapping[str, Any]) -> list[str]:
    """``["boston_kfold"]`` for ``kedro run --pipeline=boston_kfold``."""
    names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
    return [name or "__default__" for name in names]


def pipeline_label(run_params: Mapping[str, Any]) -> str:
    """``boston_kfold`` for ``kedro run --pipeline=boston_kfold``; ``a+b`` for two."""
    return "+".join(pipeline_names(run_params))


def flatten(parameters: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys, as MLflow shows parameters (lists stay whole):
    ``{"model": {"units": 64}}`` -> ``{"model.units": 64}``. A section Kedro has
    validated into its pydantic model counts as its mapping."""
    flat = {}
    for key, value in parameters.items():
        plain = value.model_dump() if isinstance(value, BaseModel) else value
        if isinstance(plain, Mapping):
            flat |= flatten(plain, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = plain
    return flat


def run_name(run_params: Mapping[str, Any]) -> str:
    """A name that tells runs apart in the MLflow UI: the pipeline with its Keras
    backend (when not TensorFlow), runner, environment and ``--params`` overrides,
    e.g. ``boston_kfold backend=jax,k=5,seed=1``."""
    overrides = flatten(dict(run_params.get("runtime_params") or {}))
    label = pipeline_label(run_params)
    changes = [
        f"{key.removeprefix(label + '.')}={value}"
        for key, value in overrides.items()
        if key != "run_name"
    ]
    if run_params.get("env") not in (None, "local"):
        changes.insert(0, f"env={run_params['env']}")
    runner = _runner_name(run_params.get("runner"))
    if runner and runner not in DEFAULT_RUNNERS:
        changes.insert(0, f"runner={runner}")
    if (backend := backends.configured_backend()) != backends.DEFAULT:
        changes.insert(0, f"backend={backend}")
    return " ".join([label, ",".join(changes)]) if changes else label


def _runner_name(runner: Any) -> str | None:
    """``ParallelRunner`` for Kedro's run parameter ``<...ParallelRunner object at
    0x...>`` (or a class path)."""
    if not runner:
        return None
    return str(runner).removeprefix("<").split(" ", 1)[0].rsplit(".", 1)[-1]


class ParameterValidationHook:
    """Checks the parameters of the pipelines being run before anything runs: before
    the MLflow run starts, any data is loaded or a model is built.

    Each pipeline's section against its schema (``pipelines/<name>/parameters.py``);
    then that the run's parameters give the pipelines the nodes they were built with
    (graph parameters come from ``conf/``, not ``--params``: ``pipeline_registry``).
    """

    def __init__(self) -> None:
        self._context: KedroContext | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._context = context

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog) -> None:
        # The pipelines' modules, imported when a run checks them (not by settings.py).
        from keras_classics.pipeline_registry import build_pipelines  # noqa: PLC0415
        from keras_classics.pipelines import (  # noqa: PLC0415
            PARAMETER_SCHEMAS,
            PREDICT,
            trained_pipeline,
        )

        try:
            backends.check_supported(backends.configured_backend())
        except ValueError as error:
            raise ParameterError(str(error)) from None
        names = pipeline_names(run_params)
        sweeps = configured_sweeps(self._context.config_loader)
        parameters = catalog.load("parameters")
        # A prediction pipeline reads its trained pipeline's section (class names...)
        # and its own, which --params may give (model_uri).
        searched = tuning.searched(parameters)
        schemas = (
            PARAMETER_SCHEMAS
            | {f"{name}{PREDICT}": PredictParameters for name in PARAMETER_SCHEMAS}
            | {f"{name}{tuning.TUNE}": tuning.SearchParameters for name in searched}
        )
        checked = list(schemas) if "__default__" in names else names
        checked += [base for name in checked if (base := trained_pipeline(name))]
        checked += [
            name.removesuffix(tuning.TUNE)
            for name in checked
            if name.removesuffix(tuning.TUNE) in searched
        ]
        validate(
            parameters,
            schemas,
            [name for name in dict.fromkeys(checked) if name in schemas],
            extra_keys=("run_name", *sweeps),
            variants={
                f"{name}.{variant}.{sweeps[name].pipeline}": sweeps[name].pipeline
                for name in names
                if name in sweeps
                for variant in sweeps[name].overrides()
            },
        )
        for name in searched:
            if f"{name}{tuning.TUNE}" in names:
                search = tuning.SearchParameters.model_validate(
                    parameters[f"{name}{tuning.TUNE}"]
                )
                raise_if_any(
                    tuning.space_problems(
                        search, parameters[name], name, PARAMETER_SCHEMAS[name]
                    )
                )
        expected = build_pipelines(parameters, sweeps)
        for name in names:
            if set(project.pipelines[name].nodes) != set(expected[name].nodes):
                raise ParameterError(_graph_changed(name, sweeps, run_params))


def _graph_changed(name: str, sweeps: Mapping[str, Any], run_params) -> str:
    from keras_classics.pipeline_registry import graph_parameters  # noqa: PLC0415
    from keras_classics.pipelines import (  # noqa: PLC0415
        PARAMETER_SCHEMAS,
        trained_pipeline,
    )

    # The pipeline itself, a sweep's pipeline, or (__default__) every pipeline.
    if trained_pipeline(name):
        bases = [trained_pipeline(name)]
    elif name in PARAMETER_SCHEMAS:
        bases = [name]
    elif name in sweeps:
        bases = [sweeps[name].pipeline]
    elif name.removesuffix(tuning.TUNE) in PARAMETER_SCHEMAS:
        bases = [name.removesuffix(tuning.TUNE)]
    else:
        bases = list(PARAMETER_SCHEMAS)
    keys = [f"{base}.{key}" for base in bases for key in graph_parameters(base)]
    if name.endswith(tuning.TUNE):
        keys.append(f"{name}.workers")
    given = [
        key for key in flatten(run_params.get("runtime_params") or {}) if key in keys
    ]
    first = (given or keys)[0]
    base, key = first.split(".", 1)
    return (
        f"Pipeline {name!r} was built with other nodes than this run's parameters "
        f"give it: {', '.join(given or keys)} decide which nodes exist, so they are "
        "read from conf/ when the pipelines are built (base, and the environment: "
        "`kedro run --env=<env>` or KEDRO_ENV), not from --params. Set "
        f"{key}: <value> under {base}: in conf/local/parameters_{base}.yml, or in an "
        f"environment's conf/<env>/parameters_{base}.yml."
    )


class MlflowTrackingHook:
    """MLflow tracking of a whole ``kedro run`` in one run: kedro-mlflow's hook made to
    do it (``keras_classics.run_tracking.RunTracking``), imported at the first hook
    call, so that Kedro commands which run no pipeline do not import MLflow."""

    def __init__(self) -> None:
        self._tracking: RunTracking | None = None

    @property
    def tracking(self) -> RunTracking:
        if self._tracking is None:
            from keras_classics.run_tracking import RunTracking  # noqa: PLC0415

            self._tracking = RunTracking()
        return self._tracking

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self.tracking.after_context_created(context)

    @hook_impl
    def after_catalog_created(  # noqa: PLR0913 (kedro-mlflow's hook's arguments)
        self, catalog, conf_catalog, conf_creds, parameters, save_version, load_versions
    ) -> None:
        self.tracking.after_catalog_created(
            catalog, conf_catalog, conf_creds, parameters, save_version, load_versions
        )

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline, catalog
    ) -> None:
        self.tracking.before_pipeline_run(run_params, pipeline, catalog)

    @hook_impl
    def before_node_run(self, node) -> None:
        self.tracking.before_node_run(node)

    @hook_impl
    def after_node_run(self, node, catalog) -> None:
        self.tracking.after_node_run(node, catalog)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self.tracking.after_pipeline_run(run_params, pipeline, catalog)

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        self.tracking.on_pipeline_error(error, run_params, pipeline, catalog)
