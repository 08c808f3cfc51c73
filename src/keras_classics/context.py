"""The project's Kedro context: its parameters include every sweep's variants."""

from __future__ import annotations

from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.validation import ParameterValidator

from keras_classics import sweeps


def configured_sweeps(config_loader) -> dict[str, sweeps.Sweep]:
    """The sweeps of ``conf/<env>/sweeps.yml`` (none without the file)."""
    try:
        return sweeps.load(config_loader["sweeps"])
    except MissingConfigException:
        return {}


class ProjectContext(KedroContext):
    """``params`` adds a section per sweep (``keras_classics.sweeps``), so that each
    variant's namespaced nodes find their parameters in the catalog.

    Kedro validates node parameters typed with pydantic models in the configuration's
    parameters; the variants' copies are added here, after that, so the sweeps'
    pipelines are validated here again, with them."""

    @property
    def params(self) -> dict[str, Any]:
        swept = configured_sweeps(self.config_loader)
        parameters = sweeps.with_variants(super().params, swept)
        if not swept:
            return parameters
        from kedro.framework.project import pipelines  # noqa: PLC0415 (built by now)

        variants = {name: pipelines[name] for name in swept if name in pipelines}
        return ParameterValidator(variants).validate_raw_params(parameters)
