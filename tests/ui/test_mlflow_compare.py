"""``boston_kfold`` runs and a sweep against a real ``mlflow server``, seen in its UI."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.browser import CHROMIUM, chromium
from tests.project import Project
from tests.servers import mlflow_server

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)
QUICK = "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """``mlflow server`` on SQLite, on 127.0.0.1 and a free port, in its own group."""
    folder = tmp_path_factory.mktemp("mlflow_server")
    with mlflow_server(folder, f"sqlite:///{folder / 'mlflow.db'}") as url:
        yield url


def _kedro_run(project: Project, server: str, pipeline: str, params: str) -> None:
    """``kedro run --pipeline=<pipeline> --params <params>``, tracked on ``server``."""
    done = project.kedro(
        "run",
        f"--pipeline={pipeline}",
        "--params",
        params,
        env={"MLFLOW_TRACKING_URI": server},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def two_runs(server, tmp_path_factory):
    project = Project.with_boston_data(tmp_path_factory.mktemp("compare"))
    for seed in (0, 1):
        _kedro_run(project, server, "boston_kfold", f"{QUICK},boston_kfold.seed={seed}")
    client = MlflowClient(tracking_uri=server)
    experiment = client.get_experiment_by_name("boston_kfold")
    runs = client.search_runs([experiment.experiment_id], order_by=["start_time ASC"])
    assert len(runs) == 2
    return client, experiment, runs


def test_both_runs_hold_comparable_params_and_full_histories(two_runs):
    client, _, runs = two_runs
    first, second = (run.data for run in runs)
    assert set(first.params) == set(second.params)
    differing = {key for key in first.params if first.params[key] != second.params[key]}
    assert differing == {"boston_kfold.seed"}
    assert set(first.metrics) == set(second.metrics)
    for run in runs:
        assert run.info.status == "FINISHED"
        for key in ("mean_val_mae", "fold_0_val_mae", "fold_3_loss"):
            steps = sorted(
                m.step for m in client.get_metric_history(run.info.run_id, key)
            )
            assert steps == [1, 2, 3]


def test_the_compare_page_shows_both_runs_and_their_difference(
    two_runs, server, tmp_path: Path
):
    _, experiment, runs = two_runs
    query = urllib.parse.urlencode(
        {
            "runs": json.dumps([run.info.run_id for run in runs]),
            "experiments": json.dumps([experiment.experiment_id]),
        }
    )
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
        page.goto(f"{server}/#/compare-runs?{query}", timeout=60_000)
        page.get_by_text("boston_kfold.seed").first.wait_for(timeout=60_000)
        body = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "mlflow_compare.png"), full_page=True)
    for run in runs:
        assert run.info.run_name in body
    assert "boston_kfold seed=1" in body or "seed=1" in body
    assert (tmp_path / "mlflow_compare.png").stat().st_size > 20_000


def test_the_runs_page_shows_each_runs_dataset(two_runs, server, tmp_path: Path):
    _, experiment, runs = two_runs
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    (given,) = runs[0].inputs.dataset_inputs
    # The page the run's summary links to: the training view of the experiment.
    url = f"{server}/#/experiments/{experiment.experiment_id}/runs"
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
        page.goto(f"{url}?workflowType=machine_learning", timeout=60_000)
        page.get_by_text(runs[1].info.run_name).first.wait_for(timeout=60_000)
        body = page.inner_text("body")
    assert f"boston_housing_raw ({given.dataset.digest})" in body
    assert "Token Usage" not in body  # not the GenAI overview
    for run in runs:
        assert run.info.run_name in body


@pytest.fixture(scope="module")
def sweep(server, tmp_path_factory):
    """A 2-variant sweep (learning rates) logged to the server: its experiment, the
    sweep's run and the variants' runs."""
    project = Project.with_boston_data(tmp_path_factory.mktemp("sweep"))
    (project.path / "conf/base/sweeps.yml").write_text(
        "boston_kfold_sweep:\n"
        "  pipeline: boston_kfold\n"
        "  grid: {model.compile.optimizer.learning_rate: [0.001, 0.0005]}\n"
        "  metric: mean_fold_val_mae\n"
    )
    _kedro_run(
        project,
        server,
        "boston_kfold_sweep",
        f"{QUICK},boston_kfold.curve.skip_epochs=0",
    )
    client = MlflowClient(tracking_uri=server)
    experiment = client.get_experiment_by_name("boston_kfold_sweep")
    runs = client.search_runs([experiment.experiment_id], order_by=["run_name ASC"])
    (parent,) = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    variants = [run for run in runs if run is not parent]
    assert [run.data.tags["mlflow.parentRunId"] for run in variants] == [
        parent.info.run_id
    ] * 2
    return experiment, parent, variants


def test_a_sweep_is_a_parent_run_whose_variants_unfold_and_compare(
    sweep, server, tmp_path: Path
):
    experiment, parent, variants = sweep
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
        page.goto(f"{server}/#/experiments/{experiment.experiment_id}/runs")
        grid = page.locator("[role=grid]")
        grid.get_by_text("boston_kfold_sweep").first.wait_for(timeout=60_000)
        folded = grid.inner_text()
        grid.locator("[role=gridcell] button").first.click()  # the parent's expander
        grid.get_by_text("boston_kfold_sweep.v1").first.wait_for(timeout=30_000)
        unfolded = grid.inner_text()

        query = urllib.parse.urlencode(
            {
                "runs": json.dumps([run.info.run_id for run in variants]),
                "experiments": json.dumps([experiment.experiment_id]),
            }
        )
        page.goto(f"{server}/#/compare-runs?{query}", timeout=60_000)
        page.get_by_text("model.compile.optimizer.learning_rate").first.wait_for(
            timeout=60_000
        )
        compared = page.inner_text("body")

    assert parent.info.run_name in folded
    assert not [run for run in variants if run.info.run_name in folded]
    for run in variants:
        assert run.info.run_name in unfolded
        assert run.info.run_name in compared
    assert "0.0005" in compared
    assert "mean_fold_val_mae" in compared
