"""``keras_classics.runner.ParallelRunner``: Kedro's, sending each task with its node's
datasets only. Runs here in real worker processes (the end-to-end runs of
``boston_kfold`` and of a sweep are in tests/pipelines and tests/sweeps)."""

from __future__ import annotations

import os

import mlflow
import pytest
from kedro import runner as kedro_runner
from kedro.io import (
    AbstractDataset,
    DataCatalog,
    MemoryDataset,
    SharedMemoryDataCatalog,
)
from kedro.pipeline import Pipeline, node
from mlflow import MlflowClient

from keras_classics.hooks import MlflowTrackingHook, RunEndedError
from keras_classics.runner import ParallelRunner
from keras_classics.runner.node_catalog import node_catalog


def _double(x: int) -> int:
    return 2 * x


def _add(a: int, b: int) -> int:
    return a + b


def _with_pid(value: int) -> tuple[int, int]:
    return os.getpid(), value


def _chain(length: int) -> Pipeline:
    """x -> d0 -> d1 -> ... -> d<length-1>, and a node adding x to the first."""
    nodes = [node(_double, "x", "d0", name="double_0")]
    nodes += [
        node(_double, f"d{i - 1}", f"d{i}", name=f"double_{i}")
        for i in range(1, length)
    ]
    nodes.append(node(_add, ["x", "d0"], "sum", name="add"))
    return Pipeline(nodes)


def test_node_catalog_has_the_nodes_datasets_themselves_and_nothing_else():
    pipeline = _chain(5)
    catalog = DataCatalog(
        datasets={name: MemoryDataset() for name in pipeline.datasets()}
    )
    catalog.save("x", 3)
    (add,) = [n for n in pipeline.nodes if n.name == "add"]

    narrowed = node_catalog(catalog, add)

    assert type(narrowed) is DataCatalog
    assert set(narrowed.keys()) == {"x", "d0", "sum"}
    assert narrowed.get("x") is catalog.get("x")
    assert narrowed.load("x") == 3


class _UnpicklingLog(AbstractDataset[None, None]):
    """A dataset that appends a line to ``log`` each time it is unpickled."""

    def __init__(self, log: str):
        self._log = log

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        with open(self._log, "a") as stream:
            stream.write(f"{os.getpid()}\n")

    def _load(self) -> None:
        return None

    def _save(self, data: None) -> None:
        pass

    def _describe(self) -> dict:
        return {"log": self._log}


@pytest.mark.parametrize(
    ("runner", "unpicklings"),
    [(ParallelRunner, 0), (kedro_runner.ParallelRunner, 5)],
    ids=["keras_classics", "kedro"],
)
def test_tasks_carry_their_nodes_datasets_not_the_whole_catalog(
    tmp_path, runner, unpicklings
):
    log = tmp_path / "unpicklings"
    log.touch()
    pipeline = _chain(4)  # 5 nodes, none of which uses "unrelated"
    catalog = SharedMemoryDataCatalog(
        datasets={"x": MemoryDataset(1), "unrelated": _UnpicklingLog(str(log))}
    )

    runner(max_workers=2).run(pipeline, catalog)

    assert len(log.read_text().splitlines()) == unpicklings


@pytest.mark.parametrize("length", [3, 40])
def test_runs_a_pipeline_in_worker_processes(length):
    pipeline = _chain(length) + Pipeline([node(_with_pid, f"d{length - 1}", "last")])
    catalog = SharedMemoryDataCatalog(datasets={"x": MemoryDataset(1)})

    runner = ParallelRunner(max_workers=2)  # its manager holds the shared datasets
    outputs = runner.run(pipeline, catalog)

    assert outputs["sum"].load() == 1 + 2
    # Handed from node to node (worker to worker) through the shared datasets.
    pid, last = outputs["last"].load()
    assert last == 2**length
    assert pid != os.getpid()


def _log_then_fail_first(log: str, value: int) -> int:
    """Append a line to ``log``; raise if it is the first line."""
    with open(log, "a") as stream:
        stream.write(f"{value}\n")
    with open(log) as stream:
        if len(stream.read().splitlines()) == 1:
            raise RuntimeError("the first node fails")
    return value


def test_a_failing_node_drops_the_nodes_that_have_not_started(tmp_path):
    log = tmp_path / "started"
    nodes = 20
    pipeline = Pipeline(
        [
            node(_log_then_fail_first, ["params:log", f"v{i}"], f"out{i}", name=f"n{i}")
            for i in range(nodes)
        ]
    )
    catalog = SharedMemoryDataCatalog(
        datasets={
            "params:log": MemoryDataset(str(log)),
            **{f"v{i}": MemoryDataset(i) for i in range(nodes)},
        }
    )

    with pytest.raises(RuntimeError, match="the first node fails"):
        ParallelRunner(max_workers=1).run(pipeline, catalog)

    # The failing node, and those already handed to the worker (a queue of two).
    assert len(log.read_text().splitlines()) <= 3


def test_a_worker_does_not_resume_a_run_that_has_ended(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = MlflowClient()
    run = client.create_run(client.create_experiment("stopped"))
    client.set_terminated(run.info.run_id, "KILLED")  # by the stopped `kedro run`
    hook = MlflowTrackingHook()
    hook.tracking.run_id = run.info.run_id  # as in a worker process

    with pytest.raises(RunEndedError, match=r"has ended \(KILLED\): node double"):
        hook.before_node_run(node(_double, "x", "y", name="double"))

    assert client.get_run(run.info.run_id).info.status == "KILLED"
    assert mlflow.active_run() is None
