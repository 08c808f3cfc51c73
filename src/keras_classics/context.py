"""The project's Kedro context: its parameters include every sweep's variants."""

from __future__ import annotations

from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext

from keras_classics import sweeps


def configured_sweeps(config_loader) -> dict[str, sweeps.Sweep]:
    """The sweeps of ``conf/<env>/sweeps.yml`` (none without the file)."""
    try:
        return sweeps.load(config_loader["sweeps"])
    except MissingConfigException:
        return {}


class ProjectContext(KedroContext):
    """``params`` adds a section per sweep (``keras_classics.sweeps``), so that each
    variant's namespaced nodes find their parameters in the catalog."""

    @property
    def params(self) -> dict[str, Any]:
        return sweeps.with_variants(
            super().params, configured_sweeps(self.config_loader)
        )
