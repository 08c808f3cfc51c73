"""Every private name of Keras, Kedro, kedro-mlflow and MLflow this project relies on.

Each is used here only, where no public API does the job, with the reason; each has a
test in ``tests/test_compat.py`` that fails when the behaviour it relies on changes,
so an upgrade that breaks one breaks a test, not a run.

(Subclassing ``AbstractRunner`` and ``AbstractDataset`` means overriding their
underscore methods - ``_run``, ``_get_executor``, ``_load``, ``_save`` - which is
those classes' documented extension API, not a private use.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mlflow
from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks
from kedro.runner.task import Task
from mlflow.tracking.fluent import _active_run_stack

if TYPE_CHECKING:
    from kedro.io import AbstractDataset, CatalogProtocol
    from pluggy import PluginManager

# kedro-mlflow switches a dataset's MLflow logging off (tracking disabled for a
# pipeline in mlflow.yml) by setting this attribute on every dataset that has it
# (kedro_mlflow.io.catalog.switch_catalog_logging); there is no public protocol.
LOGGING_SWITCH = "_logging_activated"


def logging_activated(dataset: AbstractDataset) -> bool:
    """Whether kedro-mlflow left ``dataset``'s MLflow logging on."""
    return getattr(dataset, LOGGING_SWITCH, True)


def keep_tensorflow_unimported() -> None:
    """Let Keras, on a backend other than TensorFlow, take TensorFlow for not installed
    unless something else imported it: Keras imports it, when installed, wherever it
    checks for TensorFlow's types - in every ``serialize_keras_object`` (so every
    ``Model.save``) and in ``keras.utils.set_random_seed`` - which costs a JAX process
    hundreds of MB for nothing. Keras keeps the answer in its private
    ``LazyModule._available``; no setting or public API gives it.
    """
    import sys  # noqa: PLC0415

    from keras.src.utils import module_utils  # noqa: PLC0415

    if "tensorflow" not in sys.modules:
        module_utils.tensorflow._available = False


def set_experiment(config: Any) -> None:
    """kedro-mlflow's create-or-get of ``config.tracking.experiment.name``, which also
    sets the experiment kedro-mlflow's hook starts its run in (a private attribute of
    its config: ``before_pipeline_run`` reads ``experiment._experiment``). Another
    process creating it between the get and the create: the second attempt gets it.
    """
    try:
        config._set_experiment()
    except mlflow.exceptions.MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        config._set_experiment()


def process_hook_manager(package_name: str, logging_config: dict) -> PluginManager:
    """What Kedro's ParallelRunner sets up in a worker process before a task: the
    project configured (when the process was spawned), and a hook manager with the
    project's and plugins' hooks. Kedro does it per task in the private
    ``Task._run_node_synchronization``; no public function does it at all."""
    return Task._run_node_synchronization(
        package_name=package_name, logging_config=logging_config
    )


def project_hook_manager(hooks: tuple) -> PluginManager:
    """A hook manager with ``hooks`` registered, as a ``KedroSession`` creates one
    (Kedro's private ``_create_hook_manager`` and ``_register_hooks``: the session
    has no public way to make one outside a session)."""
    manager = _create_hook_manager()
    _register_hooks(manager, hooks)
    return manager


def multiprocessing_context(executor: Any) -> Any:
    """The multiprocessing context of Kedro's ParallelRunner's pool (from
    ``KEDRO_MP_CONTEXT``, Kedro's own choice otherwise); only the private
    ``ProcessPoolExecutor._mp_context`` holds it."""
    return executor._mp_context


def replace_dataset(
    catalog: CatalogProtocol, name: str, dataset: AbstractDataset
) -> None:
    """Put ``dataset`` in ``catalog`` under ``name``, as Kedro's own
    ``SharedMemoryDataCatalog.set_manager_datasets`` does; the public
    ``catalog[name] = dataset`` logs a "Replacing dataset" warning for each."""
    catalog._datasets[name] = dataset


def activate_run(run: Any) -> None:
    """Make ``run`` the active MLflow run of this thread without MLflow's two requests
    (``mlflow.start_run(run_id=...)`` reads the run and marks it RUNNING again): a
    Dask worker does this before every node."""
    _active_run_stack.get().append(mlflow.ActiveRun(run))


def deactivate_runs() -> None:
    """Let this thread's active MLflow runs go without ending them (the ``kedro run``
    process ends them), so the next node run in the thread logs into its own."""
    while mlflow.active_run():
        _active_run_stack.get().pop()
