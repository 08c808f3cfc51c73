"""Hyperparameter sweeps: a grid in ``conf/base/sweeps.yml`` expanded into namespaced
copies of a pipeline, one per variant, run as one pipeline.

A sweep ``boston_kfold_sweep`` over ``boston_kfold`` with a 2 x 2 x 2 grid becomes
the pipeline ``boston_kfold_sweep``: eight copies of ``boston_kfold`` in the
namespaces ``boston_kfold_sweep.v0`` ... ``.v7`` (sharing the raw data), and a summary
node. Each copy reads its own parameters, ``params:boston_kfold_sweep.v3.boston_kfold``
(the pipeline's parameters with the variant's overrides, added to the run's
parameters by ``keras_classics.context``), so any runner runs the variants - and
their folds - concurrently. Each variant logs to a nested MLflow run under the sweep's
run (``keras_classics.run_tracking.RunTracking``); the summary table and the best variant
go to the sweep's run.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from kedro.pipeline import Pipeline, node, pipeline

if TYPE_CHECKING:
    import pandas as pd

VARIANT_TAG = "keras_classics.variant"


@dataclass(frozen=True)
class Sweep:
    """One entry of ``sweeps.yml``."""

    name: str
    pipeline: str
    grid: Mapping[str, list[Any]]
    metric: str
    goal: Literal["minimize", "maximize"] = "minimize"

    def overrides(self) -> dict[str, dict[str, Any]]:
        """``{"v0": {"model.layers.0.units": 32, ...}, ...}``: every combination."""
        paths = list(self.grid)
        return {
            f"v{index}": dict(zip(paths, values, strict=True))
            for index, values in enumerate(itertools.product(*self.grid.values()))
        }

    def parameters(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """The sweep's section of the run's parameters: per variant, its overrides and
        the pipeline's parameters with them applied."""
        return {
            variant: {"overrides": changes, self.pipeline: _apply(base, changes)}
            for variant, changes in self.overrides().items()
        }


def load(config: Mapping[str, Any]) -> dict[str, Sweep]:
    """The sweeps of ``sweeps.yml``, by name."""
    sweeps = {}
    for name, entry in config.items():
        unknown = set(entry) - {"pipeline", "grid", "metric", "goal"}
        if unknown or not {"pipeline", "grid", "metric"} <= set(entry):
            raise ValueError(
                f"sweeps.yml: {name} needs pipeline, grid and metric (and optionally "
                f"goal: minimize or maximize); got {sorted(entry)}"
            )
        sweeps[name] = Sweep(name=name, **entry)
    return sweeps


def with_variants(
    parameters: Mapping[str, Any], sweeps: Mapping[str, Sweep]
) -> dict[str, Any]:
    """The run's parameters with a section per sweep (see ``Sweep.parameters``)."""
    return {
        **parameters,
        **{
            name: sweep.parameters(parameters[sweep.pipeline])
            for name, sweep in sweeps.items()
        },
    }


def create_pipeline(
    sweep: Sweep,
    variant_parameters: Mapping[str, Any],
    create_base: Callable[[Mapping[str, Any]], Pipeline],
) -> Pipeline:
    """The variants' copies of the pipeline (``create_base(their parameters)``) and the
    summary node."""
    from keras_classics.core.stages import REPORT, bound  # noqa: PLC0415 (imports nodes)

    copies = []
    for variant, section in variant_parameters.items():
        base = _without_model_packaging(
            create_base(section[sweep.pipeline]), sweep.pipeline
        )
        shared = {name for name in base.inputs() if not name.startswith("params:")}
        copies.append(
            pipeline(base, namespace=f"{sweep.name}.{variant}", inputs=shared)
        )
    variants = list(variant_parameters)
    summary = node(
        bound(summarise, sweep=sweep, variants=variants),
        inputs=[
            *(f"params:{sweep.name}.{v}.overrides" for v in variants),
            *(f"{sweep.name}.{v}.{sweep.pipeline}.metrics_json" for v in variants),
        ],
        outputs=[
            f"{sweep.name}.sweep_summary",
            f"{sweep.name}.best_variant",
            f"{sweep.name}.mlflow_metrics",  # catalog_shared.yml: to the sweep's run
        ],
        name="summarise_sweep",
        namespace=sweep.name,
        tags=REPORT,
    )
    return sum(copies, Pipeline([summary]))


def _without_model_packaging(base: Pipeline, name: str) -> Pipeline:
    """``base`` without the node packaging its model for MLflow: a sweep compares
    variants, their trained models stay in ``data/06_models/``; run the best variant's
    parameters as a plain run to log and register its model."""
    packaged = f"{name}.mlflow_model"
    if packaged not in base.all_outputs():
        return base
    return base - base.only_nodes_with_outputs(packaged)


def summarise(
    *overrides_then_metrics: dict[str, Any], sweep: Sweep, variants: list[str]
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, float]]:
    """One row per variant - its overrides and final metrics - best first; the best
    variant; and its score as the sweep's metric ``best_<metric>``. Takes each
    variant's overrides, then each variant's metrics."""
    import pandas as pd  # noqa: PLC0415 (Kedro commands that run nothing start faster)

    overrides = overrides_then_metrics[: len(variants)]
    metrics = overrides_then_metrics[len(variants) :]
    table = pd.DataFrame(
        [
            {"variant": variant, **changes, **scores}
            for variant, changes, scores in zip(
                variants, overrides, metrics, strict=True
            )
        ]
    ).sort_values(sweep.metric, ascending=sweep.goal == "minimize", kind="stable")
    best = table.iloc[0]
    value = float(best[sweep.metric])
    return (
        table,
        {
            "variant": f"{sweep.name}.{best['variant']}",
            "metric": sweep.metric,
            "goal": sweep.goal,
            "value": value,
            "overrides": overrides[variants.index(best["variant"])],
        },
        {f"best_{sweep.metric}": value},
    )


def _apply(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with each dotted path (list items by index) set to its value."""
    result = copy.deepcopy(dict(base))
    for path, value in changes.items():
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = result
        try:
            for part in parents:
                target = target[part]
            target[last]  # the path must exist: a typo is not a new parameter
        except (KeyError, IndexError, TypeError):
            raise ValueError(
                f"sweeps.yml: grid path {path!r} is not a parameter of the pipeline"
            ) from None
        target[last] = value
    return result
