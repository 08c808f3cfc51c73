"""Project pipelines."""

from __future__ import annotations

import os
from pathlib import Path

from kedro.framework.project import find_pipelines, settings
from kedro.pipeline import Pipeline

from keras_classics.pipelines import boston_kfold


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline under ``pipelines/``; ``__default__`` runs them all.

    Pipelines whose structure depends on a parameter (the number of folds) are built
    from the project's configuration, read as ``kedro run`` reads it: from ``conf/``
    in the working directory (the project root, where Kedro commands run).
    """
    pipelines = find_pipelines(raise_errors=True)
    parameters = _configured_parameters()
    pipelines["boston_kfold"] = boston_kfold.create_pipeline(
        k=parameters["boston_kfold"]["k"]
    )
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines


def _configured_parameters() -> dict:
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(Path.cwd() / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
    return loader["parameters"]
