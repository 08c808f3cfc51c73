"""Project pipelines: every package under ``pipelines/``, ``__default__`` running them
all, ``<name>_predict`` for each package's ``create_predict_pipeline`` (batch
predictions with its trained model), ``<name>_tune`` for each ``<name>_tune`` section of
the parameters (a hyperparameter search: ``keras_classics.tuning``), and one pipeline per
sweep of ``sweeps.yml`` (``keras_classics.sweeps``).

Pipelines are built from ``conf/``, like the rest of the project's configuration. A
few parameters decide which nodes a pipeline has - those a pipeline module lists in
``GRAPH_PARAMETERS``: ``boston_kfold.k`` (a training node per fold), ``imdb.input``
(token ids or raw texts), ``mnist.dataset`` - and a search's ``workers``, so they are
read here, from the project's ``conf/base`` and environment (``KEDRO_ENV``; ``kedro
run --env`` sets it, see ``keras_classics.cli``). ``--params`` can't change them: Kedro builds pipelines
before, and without, a run's parameters. ``ParameterValidationHook`` stops such a run
before anything runs, and says where to set the value instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.project import settings
from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project

from keras_classics import sweeps, tuning
from keras_classics.context import configured_sweeps
from keras_classics.core.parameters import field_value
from keras_classics.pipelines import (
    PARAMETER_SCHEMAS,
    PIPELINES,
    PREDICT,
    pipeline_module,
)


def register_pipelines() -> dict[str, Pipeline]:
    """The project's pipelines, built from its ``conf/``."""
    config_loader = project_config_loader()
    return build_pipelines(
        config_loader["parameters"], configured_sweeps(config_loader)
    )


def project_config_loader():
    """The configuration of the project around the working directory, in the
    environment ``KEDRO_ENV`` names (else the default, ``local``)."""
    root = find_kedro_project(Path.cwd()) or Path.cwd()
    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(root / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )


def build_pipelines(
    parameters: Mapping[str, Any], sweep_configs: Mapping[str, sweeps.Sweep]
) -> dict[str, Pipeline]:
    """Every pipeline as ``parameters`` shape it."""
    pipelines = {name: shaped(name, parameters.get(name, {})) for name in PIPELINES}
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    for name in PIPELINES:
        module = pipeline_module(name)
        if hasattr(module, "create_predict_pipeline"):
            pipelines[f"{name}{PREDICT}"] = module.create_predict_pipeline(
                **graph_values(name, parameters.get(name, {}))
            )
    for name in tuning.searched(parameters):
        search = f"{name}{tuning.TUNE}"
        workers = field_value(parameters, tuning.SearchParameters, search, "workers")
        pipelines[search] = tuning.create_pipeline(name, pipelines[name], workers)
    for name, sweep in sweep_configs.items():
        pipelines[name] = sweeps.create_pipeline(
            sweep,
            sweep.parameters(parameters[sweep.pipeline]),
            lambda section, base=sweep.pipeline: shaped(base, section),
        )
    return pipelines


def graph_parameters(name: str) -> tuple[str, ...]:
    """The keys of ``name``'s parameters that decide which nodes it has."""
    return getattr(pipeline_module(name), "GRAPH_PARAMETERS", ())


def shaped(name: str, section: Mapping[str, Any]) -> Pipeline:
    """Pipeline ``name`` built from its section of the parameters, its graph
    parameters checked first (the rest of the section is checked when it runs)."""
    return pipeline_module(name).create_pipeline(**graph_values(name, section))


def graph_values(name: str, section: Mapping[str, Any]) -> dict[str, Any]:
    """The checked values of ``name``'s graph parameters in ``section``."""
    schema = PARAMETER_SCHEMAS[name]
    return {
        key: field_value({name: section}, schema, name, key)
        for key in graph_parameters(name)
    }
