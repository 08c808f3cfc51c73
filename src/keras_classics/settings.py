"""Project settings (https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

from omegaconf.resolvers import oc

from keras_classics.context import ProjectContext
from keras_classics.hooks import (
    MlflowExperimentHook,
    MlflowRunHook,
    ParameterValidationHook,
    PipelineShapeHook,
)

# Among tryfirst hooks, the last registered runs first: parameters are validated
# before MlflowExperimentHook and kedro-mlflow open a run.
HOOKS = (
    PipelineShapeHook(),
    MlflowExperimentHook(),
    MlflowRunHook(),
    ParameterValidationHook(),
)

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
