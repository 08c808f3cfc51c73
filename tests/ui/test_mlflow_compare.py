"""Two ``boston_kfold`` runs against a real ``mlflow server``, compared in its UI."""

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


@pytest.fixture(scope="module")
def two_runs(server, tmp_path_factory):
    project = Project.with_boston_data(tmp_path_factory.mktemp("compare"))
    for seed in (0, 1):
        done = project.kedro(
            "run",
            "--pipeline=boston_kfold",
            "--params",
            f"{QUICK},boston_kfold.seed={seed}",
            env={"MLFLOW_TRACKING_URI": server},
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
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
