"""Each private name ``keras_classics.compat`` relies on still behaves as it says."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from types import SimpleNamespace

import mlflow
from kedro.framework.project import configure_project
from kedro.io import DataCatalog, MemoryDataset
from kedro_mlflow.config.kedro_mlflow_config import KedroMlflowConfig
from kedro_mlflow.io.catalog.switch_catalog_logging import switch_catalog_logging
from mlflow import MlflowClient

from keras_classics import compat
from keras_classics.core.tracking import MlflowArtifactDataset, MlflowMetricsDataset
from keras_classics.hooks import MlflowTrackingHook, ParameterValidationHook


def test_kedro_mlflow_switches_our_datasets_logging_off_and_on(tmp_path):
    catalog = DataCatalog(
        datasets={
            "metrics": MlflowMetricsDataset(),
            "report": MlflowArtifactDataset(
                {"type": "json.JSONDataset", "filepath": str(tmp_path / "r.json")}
            ),
        }
    )
    assert compat.logging_activated(catalog.get("metrics"))
    switch_catalog_logging(catalog, False)
    assert not compat.logging_activated(catalog.get("metrics"))
    assert not compat.logging_activated(catalog.get("report"))
    catalog.get("metrics").save({"loss": [1.0, 0.5]})  # no run needed: not logged
    switch_catalog_logging(catalog, True)
    assert compat.logging_activated(catalog.get("report"))


# Keras on JAX, with TensorFlow installed: does it import TensorFlow to save a model
# and to seed, without (argument "") and with the call?
TENSORFLOW_IMPORTED = """
import os, sys, tempfile
import keras
from keras_classics import compat
if sys.argv[1]:
    compat.keep_tensorflow_unimported()
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model.save(os.path.join(tempfile.mkdtemp(), "model.keras"))
keras.utils.set_random_seed(1)
print("tensorflow" in sys.modules)
"""


def test_keras_on_jax_imports_tensorflow_unless_told_it_is_not_installed():
    def tensorflow_imported(call: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", TENSORFLOW_IMPORTED, call],
            env={**os.environ, "KERAS_BACKEND": "jax"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]

    assert tensorflow_imported("") == "True"  # else the call is no longer needed
    assert tensorflow_imported("call") == "False"


def test_kedro_mlflow_starts_its_run_in_the_experiment_set(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = KedroMlflowConfig.model_validate({"server": {"mlflow_tracking_uri": uri}})
    context = SimpleNamespace(project_path=tmp_path, _get_config_credentials=dict)
    config.setup(context)
    config.tracking.experiment.name = "boston_kfold"
    compat.set_experiment(config)
    compat.set_experiment(config)  # existing: got, not created again
    found = MlflowClient(uri).get_experiment_by_name("boston_kfold")
    assert config.tracking.experiment._experiment.experiment_id == found.experiment_id
    mlflow.set_tracking_uri(None)


def test_a_worker_process_hook_manager_has_the_project_hooks():
    configure_project("keras_classics")  # as a forked worker inherits it
    manager = compat.process_hook_manager(None, {})
    hooks = manager.get_plugins()
    assert any(isinstance(hook, MlflowTrackingHook) for hook in hooks)
    assert any(isinstance(hook, ParameterValidationHook) for hook in hooks)
    assert hasattr(manager.hook, "before_node_run")


def test_a_hook_manager_with_given_hooks():
    hooks = (ParameterValidationHook(),)
    manager = compat.project_hook_manager(hooks)
    assert hooks[0] in manager.get_plugins()


def test_the_pools_multiprocessing_context_is_the_one_it_was_given():
    context = get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert compat.multiprocessing_context(pool) is context


def test_a_dataset_is_replaced_without_a_warning(caplog):
    catalog = DataCatalog(datasets={"x": MemoryDataset(1)})
    replacement = MemoryDataset(2)
    with caplog.at_level(logging.WARNING):
        compat.replace_dataset(catalog, "x", replacement)
    assert catalog.get("x") is replacement
    assert catalog.load("x") == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_run_is_made_active_and_let_go_without_being_touched(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    run = client.create_run(client.create_experiment("e"))
    client.set_terminated(run.info.run_id, "KILLED")
    mlflow.set_tracking_uri(uri)
    try:
        compat.activate_run(client.get_run(run.info.run_id))
        assert mlflow.active_run().info.run_id == run.info.run_id
        compat.deactivate_runs()
        assert mlflow.active_run() is None
        assert client.get_run(run.info.run_id).info.status == "KILLED"  # untouched
    finally:
        mlflow.set_tracking_uri(None)
