"""Project settings (https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

from pathlib import Path

from kedro.utils import find_kedro_project
from omegaconf.resolvers import oc

from keras_classics.console import quiet_third_parties

quiet_third_parties()  # before the imports below, and Kedro's, warn

from keras_classics.context import ProjectContext  # noqa: E402
from keras_classics.hooks import MlflowTrackingHook, ParameterValidationHook  # noqa: E402


def in_project(filename: str) -> str:
    """``${in_project:mlflow.db}``: a SQLite store at the root of the project around the
    working directory, so that a notebook in notebooks/ and ``kedro run`` share one."""
    root = find_kedro_project(Path.cwd()) or Path.cwd()
    return f"sqlite:///{(root / filename).as_posix()}"


# In any order: neither depends on the other (keras_classics.hooks).
HOOKS = (MlflowTrackingHook(), ParameterValidationHook())
# kedro-mlflow's hook is MlflowTrackingHook, in place of its plugin entry point.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)  # its distribution name

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment's parameters_<pipeline>.yml overrides single keys of base's.
    "merge_strategy": {"parameters": "soft"},
    # ${oc.env:NAME,default} in any config file (mlflow.yml: MLFLOW_TRACKING_URI).
    "custom_resolvers": {"oc.env": oc.env, "in_project": in_project},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],  # as kedro-mlflow reads it
        "sweeps": ["sweeps*", "sweeps*/**"],  # keras_classics.sweeps
        "champions": ["champions*", "champions*/**"],  # keras_classics.run_tracking
    },
}

CONTEXT_CLASS = ProjectContext
