"""The project works with Kedro, kedro-mlflow and Keras: two hooks in any order,
stages as tags, private names in one module."""

from __future__ import annotations

import json
import multiprocessing
import re
import textwrap
from concurrent.futures import ProcessPoolExecutor

import pytest
from kedro.framework.project import configure_project

from keras_classics import settings
from keras_classics.context import configured_sweeps
from keras_classics.core.stages import STAGES
from keras_classics.pipeline_registry import build_pipelines, project_config_loader
from tests.project import REPO, Project

QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"
PRIVATE_NAMES = (
    "_symbolic_build",
    "_set_experiment",
    "_flatten_dict",
    "_logging_activated",
    "_run_node_synchronization",
    "_mp_context",
    "_create_hook_manager",
    "_register_hooks",
    "catalog._datasets",
    "_active_run_stack",
    "keras.src",
    "pipelines.configure",
    "PipelineShapeHook",
)


def test_at_most_two_project_hooks():
    assert len(settings.HOOKS) <= 2


def test_private_names_are_used_in_compat_only():
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in (REPO / "src").rglob("*.py")
        if path.name != "compat.py"
        for name in PRIVATE_NAMES
        if name in path.read_text()
    ]
    assert offenders == []


def _every_shape(monkeypatch):
    """The registered pipelines, and those the other graph parameters give."""
    monkeypatch.chdir(REPO)
    configure_project("keras_classics")
    loader = project_config_loader()
    parameters, sweeps = loader["parameters"], configured_sweeps(loader)
    shapes = [build_pipelines(parameters, sweeps)]
    for name, key, value in [
        ("boston_kfold", "k", 2),
        ("imdb", "input", "raw_text"),
        ("mnist", "dataset", "fashion_mnist"),
    ]:
        changed = {**parameters, name: {**parameters[name], key: value}}
        shapes.append(build_pipelines(changed, sweeps))
    return shapes


def test_every_node_of_every_pipeline_has_exactly_one_stage_tag(monkeypatch):
    untagged = {
        node.name: sorted(node.tags)
        for pipelines in _every_shape(monkeypatch)
        for pipeline in pipelines.values()
        for node in pipeline.nodes
        if len(node.tags & set(STAGES)) != 1
    }
    assert untagged == {}


def _function_names(nodes: list) -> list[str]:
    """What a worker process calls each node's function (Kedro's node text)."""
    return [str(node).split(": ", 1)[1].split("(", 1)[0] for node in nodes]


def test_every_node_function_keeps_its_name_in_a_spawned_worker(monkeypatch):
    """As a parallel runner's worker receives them: no '<partial>', no warning."""
    nodes = [
        node
        for pipelines in _every_shape(monkeypatch)
        for node in pipelines["__default__"].nodes
        + pipelines["boston_kfold_sweep"].nodes
    ]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as worker:
        received = worker.submit(_function_names, nodes).result()
    assert received == _function_names(nodes)
    assert "<partial>" not in received


def test_no_stage_depends_on_a_later_one(monkeypatch):
    late = []
    for pipelines in _every_shape(monkeypatch):
        for pipeline in pipelines.values():
            producer = {out: node for node in pipeline.nodes for out in node.outputs}
            for node in pipeline.nodes:
                (stage,) = node.tags & set(STAGES)
                for name in node.inputs:
                    if name in producer:
                        (before,) = producer[name].tags & set(STAGES)
                        if STAGES.index(before) > STAGES.index(stage):
                            late.append(f"{node.name} ({stage}) <- {name} ({before})")
    assert late == []
    for name in ("boston_kfold", "imdb", "reuters", "mnist", "mnist_dense"):
        stages = {tag for node in pipelines[name].nodes for tag in node.tags}
        assert stages >= {"prepare", "build", "train", "evaluate", "report"}, name


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.with_boston_data(tmp_path_factory.mktemp("conventions"))


@pytest.mark.e2e
def test_tags_run_only_the_nodes_of_those_stages(project):
    done = project.kedro(
        "run", "--pipeline=boston_kfold", "--tags=ingest,prepare", "--params", QUICK
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ran = re.findall(r"Running node: (\w+)", done.stdout + done.stderr)
    assert sorted(ran) == ["fit_standardiser", "split_dataset", "standardise"]
    assert (project.path / "data/04_feature/boston_kfold/feature_stats.csv").exists()
    assert not (project.path / "data/06_models/boston_kfold").exists()


REVERSED = textwrap.dedent(
    """
    import sys
    import keras_classics.settings as settings
    settings.HOOKS = tuple(reversed(settings.HOOKS))
    from kedro.framework.cli.cli import main
    sys.argv = ["kedro", *sys.argv[1:]]
    main()
    """
)


def _run(project: Project, *args: str, reverse: bool):
    command = ("-c", REVERSED) if reverse else ("-m", "kedro")
    return project.python(*command, "run", "--pipeline=boston_kfold", *args)


@pytest.mark.e2e
def test_hooks_in_reverse_order_give_the_same_runs(project):
    outcomes = []
    for reverse in (False, True):
        before = {run.info.run_id for run in project.runs("boston_kfold")}
        done = _run(project, "--params", QUICK, reverse=reverse)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        (run,) = [
            run for run in project.runs("boston_kfold") if run.info.run_id not in before
        ]
        (version,) = project.mlflow().search_model_versions(
            f"run_id = '{run.info.run_id}'"
        )
        figures = json.loads(
            (project.path / "data/08_reporting/boston_kfold/metrics.json").read_text()
        )
        figures.pop("training_seconds")
        outcomes.append(
            (
                run.info.status,
                run.info.run_name,
                run.data.params,
                {k: v for k, v in run.data.metrics.items() if "seconds" not in k},
                {k: v for k, v in version.tags.items()},
                figures,
            )
        )
        # Invalid parameters stop the run before MLflow starts one, in either order.
        bad = _run(
            project, "--params", "boston_kfold.training.epochs=0", reverse=reverse
        )
        assert bad.returncode != 0
        assert "boston_kfold.training.epochs = 0" in bad.stdout + bad.stderr
        assert len(project.runs("boston_kfold")) == len(before) + 1
    normal, reversed_order = outcomes
    assert normal[0] == "FINISHED"
    assert normal == reversed_order
