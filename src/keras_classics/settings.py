"""Project settings (https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

from omegaconf.resolvers import oc

from keras_classics.context import ProjectContext
from keras_classics.hooks import (
    KedroMlflowHook,
    MlflowExperimentHook,
    MlflowRunHook,
    ParameterValidationHook,
    PipelineShapeHook,
)

# Among hooks of one priority, the last registered runs first: parameters are
# validated (tryfirst) before MlflowExperimentHook (tryfirst) and kedro-mlflow open a
# run; kedro-mlflow's hook runs before MlflowRunHook's, as its plugin entry point did.
HOOKS = (
    PipelineShapeHook(),
    MlflowExperimentHook(),
    MlflowRunHook(),
    KedroMlflowHook(),
    ParameterValidationHook(),
)
# kedro-mlflow's hook is KedroMlflowHook above.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)  # its distribution name

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment's parameters_<pipeline>.yml overrides single keys of base's.
    "merge_strategy": {"parameters": "soft"},
    # ${oc.env:NAME,default} in any config file (mlflow.yml: MLFLOW_TRACKING_URI).
    "custom_resolvers": {"oc.env": oc.env},
    # mlflow.yml, as kedro-mlflow reads it (MlflowExperimentHook reads it first).
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        "sweeps": ["sweeps*", "sweeps*/**"],  # keras_classics.sweeps
    },
}

CONTEXT_CLASS = ProjectContext
