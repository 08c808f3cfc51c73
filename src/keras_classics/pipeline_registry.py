"""Project pipelines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.framework.project import find_pipelines, settings
from kedro.pipeline import Pipeline

from keras_classics.core.parameters import field_value
from keras_classics.hooks import PipelineShapeHook
from keras_classics.pipelines import PARAMETER_SCHEMAS, boston_kfold, imdb, mnist


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline under ``pipelines/``; ``__default__`` runs them all.

    Some parameters shape the graph itself: ``boston_kfold.k`` (one training node per
    fold), ``imdb.input`` (token ids or raw review texts) and ``mnist.dataset``. They come from the run's
    own parameters when a Kedro session prepares a run, else from ``conf/`` in the
    working directory (the project root), with ``KEDRO_ENV``.
    """
    pipelines = find_pipelines(raise_errors=True)
    parameters = PipelineShapeHook.run_parameters or _configured_parameters()
    pipelines["boston_kfold"] = boston_kfold.create_pipeline(
        k=_shape(parameters, "boston_kfold", "k")
    )
    pipelines["imdb"] = imdb.create_pipeline(input=_shape(parameters, "imdb", "input"))
    pipelines["mnist"] = mnist.create_pipeline(
        dataset=_shape(parameters, "mnist", "dataset")
    )
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines


def _shape(parameters: dict[str, Any], name: str, key: str) -> Any:
    """A graph-shaping parameter, checked on its own (the rest of the pipeline's
    parameters are checked when it runs)."""
    return field_value(parameters, PARAMETER_SCHEMAS[name], name, key)


def _configured_parameters() -> dict[str, Any]:
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(Path.cwd() / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
    return loader["parameters"]
