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

A comparison set names its variants instead (``variants:``, each a few parameter
changes, e.g. the book's smaller and bigger networks): the copies are in the
namespaces ``<sweep>.<variant>``, each nested run is named after its variant, and with
``curve:`` (a validation metric of the training history, e.g. ``val_loss``) the sweep's
run also gets every variant's curve over the same axes (``comparison.png``) and the
summary its best and final values.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from kedro.pipeline import Pipeline, node, pipeline

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

VARIANT_TAG = "keras_classics.variant"
KEYS = {"pipeline", "grid", "variants", "metric", "goal", "curve"}
VARIANT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Curves whose best epoch is their highest; any other (losses, errors) is lowest.
HIGHER_IS_BETTER = ("accuracy", "auc", "precision", "recall")
SWEEP_HINT = (
    "check the path; a sweep that does not apply in an environment is set to null in "
    "that environment's sweeps.yml"
)


class SweepError(ValueError):
    """A ``sweeps.yml`` entry that cannot run: the message names it and what to change."""


@dataclass(frozen=True)
class Sweep:
    """One entry of ``sweeps.yml``: a ``grid`` of values, or named ``variants``."""

    name: str
    pipeline: str
    grid: Mapping[str, list[Any]]
    metric: str
    goal: Literal["minimize", "maximize"] = "minimize"
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    curve: str | None = None

    def overrides(self) -> dict[str, dict[str, Any]]:
        """Each variant's changes by its name: the named ``variants``, or every
        combination of the grid (``{"v0": {"model.layers.0.units": 32, ...}, ...}``)."""
        if self.variants:
            return {name: dict(changes) for name, changes in self.variants.items()}
        paths = list(self.grid)
        return {
            f"v{index}": dict(zip(paths, values, strict=True))
            for index, values in enumerate(itertools.product(*self.grid.values()))
        }

    def parameters(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """The sweep's section of the run's parameters: per variant, its overrides and
        the pipeline's parameters with them applied."""
        return {
            variant: {
                "overrides": changes,
                self.pipeline: apply_changes(
                    base, changes, f"sweeps.yml: {self.name}.{variant}"
                ),
            }
            for variant, changes in self.overrides().items()
        }


def load(config: Mapping[str, Any]) -> dict[str, Sweep]:
    """The sweeps of ``sweeps.yml``, by name; an entry set to null (in an
    environment's ``sweeps.yml``) is not a sweep there."""
    sweeps = {}
    for name, entry in config.items():
        if entry is None:
            continue
        if (
            set(entry) - KEYS
            or not {"pipeline", "metric"} <= set(entry)
            or ("grid" in entry) == ("variants" in entry)
        ):
            raise SweepError(
                f"sweeps.yml: {name} needs pipeline, metric, and either grid or "
                "variants (and optionally goal: minimize or maximize, and curve); got "
                f"{sorted(entry)}"
            )
        for variant, changes in entry.get("variants", {}).items():
            if not VARIANT_NAME.fullmatch(str(variant)):
                raise SweepError(
                    f"sweeps.yml: {name}.variants: {variant!r} is not a variant name "
                    "(letters, digits and _, starting with a letter)"
                )
            if not isinstance(changes, Mapping):
                raise SweepError(
                    f"sweeps.yml: {name}.variants.{variant} must map parameter paths "
                    f"to values ({{}} for the pipeline's own), not {changes!r}"
                )
        sweeps[name] = Sweep(name=name, **{"grid": {}, **entry})
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
    curves = []
    if sweep.curve:
        history = _history_dataset(base, sweep.pipeline)
        curves = [f"{sweep.name}.{v}.{sweep.pipeline}.{history}" for v in variants]
    reports = [
        node(
            bound(summarise, sweep=sweep, variants=variants),
            inputs=[
                *(f"params:{sweep.name}.{v}.overrides" for v in variants),
                *(f"{sweep.name}.{v}.{sweep.pipeline}.metrics_json" for v in variants),
                *curves,
            ],
            outputs=[
                f"{sweep.name}.sweep_summary",
                f"{sweep.name}.best_variant",
                f"{sweep.name}.mlflow_metrics",  # catalog_shared.yml: the sweep's run
            ],
            name="summarise_sweep",
            namespace=sweep.name,
            tags=REPORT,
        )
    ]
    if curves:
        reports.append(
            node(
                bound(comparison_figure, curve=sweep.curve, variants=variants),
                inputs=curves,
                outputs=f"{sweep.name}.comparison_plot",
                name="compare_curves",
                namespace=sweep.name,
                tags=REPORT,
            )
        )
    return sum(copies, Pipeline(reports))


def _history_dataset(base: Pipeline, name: str) -> str:
    """The dataset of ``base`` holding its per-epoch validation history: a hold-out
    ``curve``, or the k-fold ``epoch_curves``."""
    for dataset in ("curve", "epoch_curves"):
        if f"{name}.{dataset}" in base.all_outputs():
            return dataset
    raise SweepError(
        f"sweeps.yml: curve is set, but pipeline {name} has no validation history "
        "(a curve or epoch_curves output) to draw"
    )


def _without_model_packaging(base: Pipeline, name: str) -> Pipeline:
    """``base`` without the node packaging its model for MLflow: a sweep compares
    variants, their trained models stay in ``data/06_models/``; run the best variant's
    parameters as a plain run to log and register its model."""
    packaged = f"{name}.mlflow_model"
    if packaged not in base.all_outputs():
        return base
    return base - base.only_nodes_with_outputs(packaged)


def summarise(
    *inputs: Any, sweep: Sweep, variants: list[str]
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, float]]:
    """One row per variant - its overrides (a grid's, a column per path; named
    variants', as one ``changes`` column), its curve's best epoch and best and final
    values (with ``sweep.curve``), and its final metrics - best first; the best
    variant; and its score as the sweep's metric ``best_<metric>``. Takes each
    variant's overrides, then each variant's metrics, then (with ``sweep.curve``) each
    variant's history."""
    import pandas as pd  # noqa: PLC0415 (Kedro commands that run nothing start faster)

    count = len(variants)
    overrides, metrics = inputs[:count], inputs[count : 2 * count]
    curves = [
        curve_summary(history, sweep.curve) for history in inputs[2 * count :]
    ] or [{}] * count
    rows = []
    for variant, changes, scores, curve in zip(
        variants, overrides, metrics, curves, strict=True
    ):
        described = {"changes": describe(changes)} if sweep.variants else changes
        rows.append({"variant": variant, **described, **curve, **scores})
    table = pd.DataFrame(rows).sort_values(
        sweep.metric, ascending=sweep.goal == "minimize", kind="stable"
    )
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


def validation_history(history: Any, curve: str) -> list[float]:
    """Metric ``curve`` per epoch, from a hold-out ``curve`` (``{"history": ...}``) or
    k-fold ``epoch_curves`` (a column per metric)."""
    values = history["history"] if isinstance(history, Mapping) else history
    if curve not in values:
        raise SweepError(
            f"sweeps.yml: curve {curve!r} is not in the training history; it has "
            f"{', '.join(sorted(values))}"
        )
    return [float(value) for value in values[curve]]


def curve_summary(history: Any, curve: str) -> dict[str, float | int]:
    """The epoch (from 1) where ``curve`` is best (``best_<curve>_epoch``), its best
    value and its last."""
    values = validation_history(history, curve)
    pick = max if curve.endswith(HIGHER_IS_BETTER) else min
    best = values.index(pick(values))
    return {
        f"best_{curve}_epoch": best + 1,
        f"best_{curve}": values[best],
        f"final_{curve}": values[-1],
    }


def comparison_figure(*histories: Any, curve: str, variants: list[str]) -> Figure:
    """Every variant's ``curve`` over the same axes, as the book compares models."""
    from keras_classics.core import plots  # noqa: PLC0415 (imports matplotlib)

    return plots.learning_curves(
        {
            variant: validation_history(history, curve)
            for variant, history in zip(variants, histories, strict=True)
        },
        title=f"{curve.replace('val_', 'Validation ', 1).replace('_', ' ')} per variant",
        ylabel=curve,
    )


def describe(changes: Mapping[str, Any]) -> str:
    """A variant's changes in one line: ``path=value; ...`` (layer lists by their
    types and units), or ``(the pipeline's parameters)``."""
    if not changes:
        return "(the pipeline's parameters)"
    return "; ".join(f"{path}={_short(value)}" for path, value in changes.items())


def _short(value: Any) -> str:
    """Layer and Keras object specs as ``Dense(16,relu,L2(0.002))``."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return "[" + ", ".join(_short(layer) for layer in value) + "]"
    if isinstance(value, Mapping) and ("type" in value or "class_name" in value):
        name = value.get("type", value.get("class_name"))
        arguments = value.get("config", {k: v for k, v in value.items() if k != "type"})
        return f"{name}({','.join(_short(v) for v in arguments.values())})"
    return str(value)


def apply_changes(
    base: Mapping[str, Any],
    changes: Mapping[str, Any],
    where: str,
    hint: str = SWEEP_HINT,
) -> dict[str, Any]:
    """``base`` with each dotted path (list items by index) set to its value (for the
    messages: ``where`` they are - a sweep's variant, a search's space - and a
    ``hint``)."""
    result = copy.deepcopy(dict(base))
    for path, value in changes.items():
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = result
        try:
            for part in parents:
                target = target[part]
            target[last]  # the path must exist: a typo is not a new parameter
        except (KeyError, IndexError, TypeError):
            raise SweepError(
                f"{where}: {path!r} is not a parameter of the pipeline ({hint})"
            ) from None
        target[last] = value
    return result
