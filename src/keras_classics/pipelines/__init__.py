"""The pipelines, one package each: ``pipeline.py`` (``create_pipeline``), ``nodes.py``
and ``parameters.py`` (``Parameters``, the schema of its ``parameters_<name>.yml``).

A package here is a pipeline: ``pipeline_registry`` and the parameter checks find them
all, so a new pipeline is registered by adding its folder.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

PIPELINES = sorted(
    module.name for module in pkgutil.iter_modules(__path__) if module.ispkg
)


PREDICT = "_predict"  # <name>_predict: the batch predictions of pipeline <name>


def trained_pipeline(name: str) -> str | None:
    """``imdb`` for ``imdb_predict``; None for a name that is no prediction pipeline."""
    base = name.removesuffix(PREDICT)
    return base if base != name and base in PIPELINES else None


def pipeline_module(name: str) -> ModuleType:
    """``keras_classics.pipelines.<name>.pipeline``."""
    return importlib.import_module(f"{__name__}.{name}.pipeline")


PARAMETER_SCHEMAS = {
    name: importlib.import_module(f"{__name__}.{name}.parameters").Parameters
    for name in PIPELINES
}
