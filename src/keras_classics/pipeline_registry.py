"""Project pipelines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.framework.project import find_pipelines, settings
from kedro.pipeline import Pipeline

from keras_classics import sweeps
from keras_classics.context import configured_sweeps
from keras_classics.core.parameters import field_value
from keras_classics.hooks import PipelineShapeHook
from keras_classics.pipelines import PARAMETER_SCHEMAS, boston_kfold, imdb, mnist


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline under ``pipelines/``; ``__default__`` runs them all. And one
    pipeline per sweep of ``sweeps.yml`` (``keras_classics.sweeps``), not in the
    default.

    Some parameters shape the graph itself: ``boston_kfold.k`` (one training node per
    fold), ``imdb.input`` (token ids or raw review texts) and ``mnist.dataset``. They
    come from the run's own parameters when a Kedro session prepares a run, else from
    ``conf/`` in the working directory (the project root), with ``KEDRO_ENV``.
    """
    pipelines = find_pipelines(raise_errors=True)
    config_loader = PipelineShapeHook.config_loader
    if config_loader is None:  # not in a session: conf/ of the working directory
        config_loader = _config_loader()
    parameters = config_loader["parameters"]
    for name in SHAPED:
        pipelines[name] = _shaped(name, parameters[name])
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    for name, sweep in configured_sweeps(config_loader).items():
        pipelines[name] = sweeps.create_pipeline(
            sweep,
            sweep.parameters(parameters[sweep.pipeline]),
            lambda section, base=sweep.pipeline: (
                _shaped(base, section) if base in SHAPED else pipelines[base]
            ),
        )
    return pipelines


# Pipelines whose graph depends on a parameter: its key, which is also the argument
# of their create_pipeline.
SHAPED = {
    "boston_kfold": ("k", boston_kfold.create_pipeline),
    "imdb": ("input", imdb.create_pipeline),
    "mnist": ("dataset", mnist.create_pipeline),
}


def _shaped(name: str, section: dict[str, Any]) -> Pipeline:
    """The pipeline built from its section of the parameters, its graph-shaping
    parameter checked on its own first (the rest of the section is checked when it
    runs)."""
    key, create_pipeline = SHAPED[name]
    value = field_value({name: section}, PARAMETER_SCHEMAS[name], name, key)
    return create_pipeline(**{key: value})


def _config_loader():
    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(Path.cwd() / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
