"""Project settings (https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

from keras_classics.hooks import MlflowExperimentHook, MlflowRunHook

HOOKS = (MlflowExperimentHook(), MlflowRunHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
