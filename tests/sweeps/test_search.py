"""Hyperparameter search with Optuna (``kedro run --pipeline=<name>_tune``): the search
space and its checks, pruning, the best parameters for conf/local, and end to end a
search stopped and resumed, two processes on one study, and workers on a runner."""

from __future__ import annotations

import shutil
import time

import optuna
import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from mlflow import MlflowClient
from optuna.trial import TrialState

from keras_classics import tuning
from keras_classics.backends import TRACKING_KEY, configured_backend
from keras_classics.core import trials
from keras_classics.pipelines import PARAMETER_SCHEMAS
from keras_classics.settings import CONFIG_LOADER_ARGS
from keras_classics.sweeps import apply_changes
from tests.core.test_parameters import DEFAULTS, configured
from tests.project import REPO, Project, assert_console_for_people

BOSTON = DEFAULTS["boston_kfold"]
SEARCH = DEFAULTS["boston_kfold_tune"]


@pytest.mark.parametrize("env", ["local", "raw_text"])
def test_every_searched_pipeline_has_a_valid_search_whose_space_applies(env):
    parameters = configured(env)
    assert tuning.searched(parameters) == ["boston_kfold", "imdb", "reuters"]
    for name in tuning.searched(parameters):
        search = tuning.SearchParameters.model_validate(parameters[f"{name}_tune"])
        problems = tuning.space_problems(
            search, parameters[name], name, PARAMETER_SCHEMAS[name]
        )
        assert problems == []
    studies = [
        parameters[f"{name}_tune"]["study"] for name in tuning.searched(parameters)
    ]
    assert len(set(studies)) == len(studies)


def _space_problems(space: dict) -> str:
    search = tuning.SearchParameters.model_validate({**SEARCH, "space": space})
    problems = tuning.space_problems(
        search, BOSTON, "boston_kfold", PARAMETER_SCHEMAS["boston_kfold"]
    )
    return "\n".join(problems)


@pytest.mark.parametrize(
    ("space", "complaint"),
    [
        (
            {"model.layers.5.units": {"type": "int", "low": 8, "high": 64}},
            "boston_kfold_tune.space: 'model.layers.5.units' is not a parameter",
        ),
        (
            {"training.batch_size": {"type": "int", "low": 0, "high": 64}},
            "boston_kfold_tune.space.training.batch_size = 0: ",
        ),
        (
            {
                "model.layers.0.activation": {
                    "type": "categorical",
                    "choices": ["relu", "relux"],
                }
            },
            "model.layers.0.activation = 'relux': ",
        ),
    ],
    ids=["unknown-path", "batch-size-0", "unknown-activation"],
)
def test_a_space_that_cannot_run_is_refused_before_any_trial(space, complaint):
    assert complaint in _space_problems(space)


@pytest.mark.parametrize(
    ("dimension", "complaint"),
    [
        ({"type": "int", "low": 64, "high": 8}, "low <= high"),
        ({"type": "float", "low": 0.0, "high": 0.1, "log": True}, "low > 0"),
        ({"type": "categorical"}, "needs choices"),
        ({"type": "int", "low": 8, "high": 64, "log": True, "step": 8}, "not both"),
        ({"type": "int", "low": 8, "hihg": 64}, "hihg"),
    ],
)
def test_a_dimension_without_a_range_is_refused(dimension, complaint):
    with pytest.raises(ValueError, match=complaint):
        tuning.SearchParameters.model_validate(
            {**SEARCH, "space": {"model.layers.0.units": dimension}}
        )


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            {"pruner": {**SEARCH["pruner"], "n_warmup_step": 3}},
            "boston_kfold_tune.pruner: MedianPruner(n_startup_trials=5, "
            "n_warmup_steps=50, n_warmup_step=3) fails: ",
        ),
        (
            {"sampler": {"type": "RandomSampler", "seed": 0}},
            "boston_kfold_tune.sampler: RandomSampler(seed=0, n_startup_trials=8, "
            "constant_liar=True) fails: ",
        ),
        ({"pruner": {"type": "MedianPrunner"}}, "did you mean 'MedianPruner'?"),
    ],
    ids=["pruner-argument", "base-arguments-kept", "unknown-pruner"],
)
def test_a_sampler_or_pruner_optuna_cannot_create_is_refused(change, complaint):
    merged = {**SEARCH, **change}
    if "sampler" in change:  # as an environment's file merges into base's
        merged["sampler"] = {**SEARCH["sampler"], **change["sampler"]}
    search = tuning.SearchParameters.model_validate(merged)
    problems = tuning.space_problems(
        search, BOSTON, "boston_kfold", PARAMETER_SCHEMAS["boston_kfold"]
    )
    assert complaint in "\n".join(problems)


def test_no_trials_is_refused():
    with pytest.raises(ValueError, match="n_trials"):
        tuning.SearchParameters.model_validate({**SEARCH, "n_trials": 0})


def test_a_space_of_nulls_searches_nothing_and_is_refused():
    with pytest.raises(ValueError, match="no parameter to search"):
        tuning.SearchParameters.model_validate(
            {**SEARCH, "space": {"model.layers.0.units": None}}
        )


def test_best_parameters_dropped_into_conf_local_train_the_best_trial(tmp_path):
    changes = {
        "model.layers.1.units": 23,
        "model.compile.optimizer.learning_rate": 0.0042,
        "training.batch_size": 32,
    }
    best = {"boston_kfold": tuning.conf_overrides(BOSTON, changes)}
    # Lists are replaced whole by an environment's file, so the layers are given whole.
    assert [layer["units"] for layer in best["boston_kfold"]["model"]["layers"]] == [
        64,
        23,
        1,
    ]
    assert "epochs" not in best["boston_kfold"]["training"]
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    (tmp_path / "conf/local/parameters_boston_kfold.yml").write_text(
        yaml.safe_dump(best)
    )
    loader = OmegaConfigLoader(str(tmp_path / "conf"), **CONFIG_LOADER_ARGS)
    assert loader["parameters"]["boston_kfold"] == apply_changes(BOSTON, changes, "")


def _trial_with_median_pruner() -> optuna.Trial:
    """A trial of a study whose one earlier trial reported 1.0 at steps 1 to 6, and
    whose pruner can prune from step 4."""
    study = optuna.create_study(
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=4)
    )
    earlier = study.ask()
    for step in range(1, 7):
        earlier.report(1.0, step)
    study.tell(earlier, 1.0)
    return study.ask()


def test_each_epoch_is_reported_over_the_folds_and_a_worse_trial_is_pruned():
    trial = _trial_with_median_pruner()
    reporter = trials.EpochReporter(trial, "val_mae", "boston_kfold_tune.monitor")
    reporter.on_train_begin()
    for epoch, value in enumerate([1.5, 1.4, 1.3]):  # worse, but warming up
        reporter.on_epoch_end(epoch, {"loss": 1.0, "val_mae": value})
    reporter.on_train_begin()  # fold 2: its first epoch is step 4
    with pytest.raises(optuna.TrialPruned, match="val_mae 1.2000 at epoch 1 of fold 2"):
        reporter.on_epoch_end(0, {"loss": 1.0, "val_mae": 1.2})
    frozen = trial.study.trials[-1]
    assert frozen.intermediate_values == {1: 1.5, 2: 1.4, 3: 1.3, 4: 1.2}
    assert trial.user_attrs == {"pruned_at_epoch": 1, "pruned_at_fold": 2}
    assert [len(fit) for fit in reporter.fits] == [3, 1]


def test_a_trial_reports_every_few_epochs_when_told():
    trial = _trial_with_median_pruner()
    reporter = trials.EpochReporter(trial, "val_mae", "", every=2)
    for values in ([1.0, 0.9, 0.8], [0.7, 0.6]):
        reporter.on_train_begin()
        for epoch, value in enumerate(values):
            reporter.on_epoch_end(epoch, {"val_mae": value})
    assert trial.study.trials[-1].intermediate_values == {2: 0.9, 4: 0.7}


def test_a_trial_better_than_the_median_is_not_pruned():
    trial = _trial_with_median_pruner()
    reporter = trials.EpochReporter(trial, "val_mae", "boston_kfold_tune.monitor")
    reporter.on_train_begin()
    for epoch, value in enumerate([1.5, 1.4, 1.3, 0.9, 0.8]):
        reporter.on_epoch_end(epoch, {"loss": 1.0, "val_mae": value})
    assert trial.user_attrs == {}


def test_a_monitor_that_training_does_not_log_names_the_parameter():
    trial = _trial_with_median_pruner()
    reporter = trials.EpochReporter(trial, "val_mea", "boston_kfold_tune.monitor")
    reporter.on_train_begin()
    with pytest.raises(tuning.SearchError, match="Set boston_kfold_tune.monitor"):
        reporter.on_epoch_end(0, {"loss": 1.0, "val_mae": 0.9})


def test_validation_figures_are_each_curves_best_and_final_value():
    figures = trials.validation_figures(
        {
            "history": {
                "loss": [3.0, 1.0],
                "val_loss": [2.0, 1.5, 1.8],
                "val_accuracy": [0.5, 0.9, 0.8],
            }
        }
    )
    assert figures == {
        "best_val_loss_epoch": 2,
        "best_val_loss": 1.5,
        "final_val_loss": 1.8,
        "best_val_accuracy_epoch": 2,
        "best_val_accuracy": 0.9,
        "final_val_accuracy": 0.8,
    }


# --- End to end, on synthetic Boston data: k=2, a few epochs per fold.


def _search_project(path, **search) -> Project:
    """Synthetic Boston data, 2 folds of 24 training rows, batches of 8 or 16."""
    project = Project.with_boston_data(path)
    project.set_parameters("boston_kfold", k=2)
    batch_size = {"type": "categorical", "choices": [8, 16]}
    space = {"training.batch_size": batch_size, **search.pop("space", {})}
    project.set_parameters("boston_kfold_tune", **search, space=space)
    return project


def _search_runs(project: Project) -> tuple[list, dict[int, object]]:
    """The search's runs (oldest first) and its trials' runs by trial number."""
    runs = project.runs("boston_kfold_tune")
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = {
        int(run.data.tags[trials.TRIAL_TAG]): run
        for run in runs
        if "mlflow.parentRunId" in run.data.tags
    }
    return sorted(parents, key=lambda run: run.info.start_time), children


def _study(project: Project, name: str = "boston_kfold_tune") -> optuna.Study:
    return optuna.load_study(
        study_name=name, storage=tuning.study_storage(project.tracking_uri, "optuna")
    )


def test_a_search_stopped_with_ctrl_c_resumes_its_study(tmp_path):
    project = _search_project(tmp_path, n_trials=3)
    running = project.start(
        "run",
        "--pipeline=boston_kfold_tune",
        "--params",
        "boston_kfold.training.epochs=1000",
    )
    running.wait_for("Trial 0: ")
    running.wait_for("Trial 1: ")
    time.sleep(1)  # trial 1 is training (a trial takes seconds: 2 folds, 1000 epochs)
    running.interrupt()
    assert running.finish() != 0
    (stopped,), children = _search_runs(project)
    assert stopped.info.status == "KILLED"
    assert {n: run.info.status for n, run in children.items()} == {
        0: "FINISHED",
        1: "KILLED",
    }
    assert [t.state for t in _study(project).trials] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
    ]

    resumed = project.run_pipeline(
        "boston_kfold_tune", "--params", "boston_kfold.training.epochs=3"
    )
    assert resumed.info.status == "FINISHED"
    _, children = _search_runs(project)
    new = {n: run for n, run in children.items() if n > 1}
    assert sorted(new) == [2, 3]  # the trial numbers go on
    assert {run.info.status for run in new.values()} == {"FINISHED"}
    assert {run.data.tags["mlflow.parentRunId"] for run in new.values()} == {
        resumed.info.run_id
    }
    study = _study(project)
    assert [t.number for t in study.trials] == [0, 1, 2, 3]
    assert resumed.data.metrics["complete_trials"] == 3
    assert resumed.data.metrics["failed_trials"] == 1
    assert resumed.data.metrics["best_trial"] == study.best_trial.number
    assert resumed.data.metrics["best_value"] == pytest.approx(study.best_value)
    # The trial's run has its parameters and each fold's epochs.
    trial = children[3]
    assert project.history(trial, "fold_1_val_mae") != []
    assert len(project.history(trial, "fold_1_val_mae")) == 3
    assert trial.data.metrics["mean_fold_val_mae"] == pytest.approx(
        study.trials[3].value
    )
    params = study.trials[3].params
    assert trial.data.params["boston_kfold.training.batch_size"] == str(
        params["training.batch_size"]
    )
    # And the Keras backend, as a plain run and a sweep's variants have it.
    backend = configured_backend()
    assert trial.data.params[TRACKING_KEY] == trial.data.tags[TRACKING_KEY] == backend
    # A study with all its trials finished runs none: n_trials counts over runs.
    again = project.run_pipeline("boston_kfold_tune")
    assert "has 3 finished trials already" in project.console
    assert again.data.metrics["best_trial"] == study.best_trial.number
    assert len(_study(project).trials) == 4


def test_two_processes_search_one_study_with_distinct_trials_and_one_best(tmp_path):
    project = _search_project(tmp_path, n_trials=6)
    quick = ("--params", "boston_kfold.training.epochs=400")
    first = project.start("run", "--pipeline=boston_kfold_tune", *quick)
    first.wait_for("Trial 0: ")  # the study exists: the second joins it
    second = project.start("run", "--pipeline=boston_kfold_tune", *quick)
    assert first.finish() == 0, first.output[-3000:]
    assert second.finish() == 0, second.output[-3000:]

    parents, children = _search_runs(project)
    assert len(parents) == 2
    by_parent = {
        parent.info.run_id: {
            n
            for n, run in children.items()
            if run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        }
        for parent in parents
    }
    first_trials, second_trials = by_parent.values()
    assert first_trials and second_trials
    assert not first_trials & second_trials
    study = _study(project)
    assert first_trials | second_trials == {t.number for t in study.trials}
    finished = [t for t in study.trials if t.state != TrialState.FAIL]
    assert len(finished) >= 6
    # Trials differ in their parameters, not only in their numbers.
    drawn = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(drawn)) == len(drawn)
    # The process that ended last saw every trial: its best is the study's.
    last = max(parents, key=lambda run: run.info.end_time)
    last = project.mlflow().get_run(last.info.run_id)
    assert last.data.metrics["best_trial"] == study.best_trial.number
    best = yaml.safe_load(
        (
            project.path / "data/08_reporting/boston_kfold_tune/best_parameters.yml"
        ).read_text()
    )
    assert best == {"boston_kfold": tuning.conf_overrides(BOSTON, study.best_params)}


def test_pruned_trials_are_recorded_with_their_epoch_and_no_best_is_made_up(
    tmp_path,
):
    # A threshold no validation MAE is under: every trial is pruned after its warm-up.
    project = _search_project(
        tmp_path,
        n_trials=2,
        report_every=2,
        pruner={
            "type": "ThresholdPruner",
            "upper": 0.0,
            "n_warmup_steps": 3,
            "n_startup_trials": None,  # the base's MedianPruner's argument
        },
    )
    done = project.kedro(
        "run",
        "--pipeline=boston_kfold_tune",
        "--params",
        "boston_kfold.training.epochs=10",
    )
    assert done.returncode != 0
    assert "has no complete trial (2 trials: PRUNED)" in done.stdout + done.stderr
    (run,), children = _search_runs(project)
    assert run.info.status == "FAILED"
    assert sorted(children) == [0, 1]
    for child in children.values():
        assert child.info.status == "FINISHED"
        assert child.data.tags[trials.STATE_TAG] == "PRUNED"
        # Reported every 2 epochs: the first report after the warm-up is epoch 4.
        assert child.data.tags["optuna.pruned_at_epoch"] == "4"
        assert child.data.tags["optuna.pruned_at_fold"] == "1"
        assert len(project.history(child, "fold_0_val_mae")) == 4
    study = _study(project)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert [t.user_attrs["pruned_at_epoch"] for t in study.trials] == [4, 4]
    assert [sorted(t.intermediate_values) for t in study.trials] == [[2, 4]] * 2


def test_diverging_trials_fail_and_the_search_stops_when_none_can_finish(tmp_path):
    learning_rate = {"type": "categorical", "choices": [1.0e6, 1.0e7]}
    project = _search_project(
        tmp_path,
        n_trials=2,
        space={"model.compile.optimizer.learning_rate": learning_rate},
    )
    done = project.kedro(
        "run",
        "--pipeline=boston_kfold_tune",
        "--params",
        "boston_kfold.training.epochs=3",
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Stopping the search: 2 trials failed here (0, 1)." in output
    assert "has no complete trial (2 trials: FAIL)" in output
    (run,), children = _search_runs(project)
    assert run.info.status == "FAILED"
    assert {n: child.info.status for n, child in children.items()} == {
        0: "FAILED",
        1: "FAILED",
    }


@pytest.fixture(scope="module")
def imdb_project(tmp_path_factory) -> Project:
    project = Project.with_imdb_data(tmp_path_factory.mktemp("imdb_tune"))
    batch_size = {"type": "categorical", "choices": [16, 32]}
    project.set_parameters(
        "imdb_tune",
        workers=2,
        n_trials=4,
        space={"training.batch_size": batch_size},
        pruner={"type": "NopPruner", "n_startup_trials": None, "n_warmup_steps": None},
    )
    return project


def test_a_hold_out_search_runs_its_workers_at_once_on_a_parallel_runner(
    imdb_project,
):
    project = imdb_project
    run = project.run_pipeline(
        "imdb_tune",
        "--runner=keras_classics.runner.ParallelRunner",
        "--params",
        "imdb.load.num_words=60,imdb.validation_samples=50,imdb.training.epochs=3",
    )
    assert run.info.status == "FINISHED"
    study = _study(project, "imdb_tune")
    # Two workers stop once 4 trials are finished: the other's last trial, started
    # meanwhile, finishes too.
    numbers = list(range(len(study.trials)))
    assert len(numbers) in (4, 5)
    assert {t.state for t in study.trials} == {TrialState.COMPLETE}
    children = [
        child
        for child in project.runs("imdb_tune")
        if child.info.run_id != run.info.run_id
    ]
    assert sorted(int(c.data.tags[trials.TRIAL_TAG]) for c in children) == numbers
    for child in children:
        trial = study.trials[int(child.data.tags[trials.TRIAL_TAG])]
        accuracy = project.history(child, "val_accuracy")
        assert len(accuracy) == 3
        assert trial.value == pytest.approx(max(accuracy))
        assert child.data.metrics["best_val_accuracy"] == pytest.approx(max(accuracy))
    assert run.data.metrics["best_value"] == pytest.approx(study.best_value)
    table = pd.read_csv(project.path / "data/08_reporting/imdb_tune/trials.csv")
    assert table["number"].tolist() == numbers
    assert table["value"].tolist() == pytest.approx([t.value for t in study.trials])
    artifacts = {a.path for a in project.mlflow().list_artifacts(run.info.run_id)}
    assert artifacts == {
        "best_parameters.yml",
        "trials.csv",
        "optimization_history.png",
        "param_importances.png",
    }
    assert "imdb_tune: best trial" in project.console
    assert_console_for_people(project.console, run, progress=False)


def test_optuna_shares_mlflows_sqlite_file_only_without_its_version_check(tmp_path):
    """Why the storage skips Optuna's schema-version check on SQLite: the table it
    reads holds MLflow's version. When this fails, the two no longer clash (or clash
    otherwise): revisit ``tuning.study_storage``."""
    url = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=url)
    experiment = client.create_experiment("kept")
    with pytest.raises(
        RuntimeError, match="no longer compatible with the table schema"
    ):
        optuna.storages.RDBStorage(url)
    study = optuna.create_study(
        study_name="s", storage=tuning.study_storage(url, "optuna")
    )
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    reopened = optuna.load_study(
        study_name="s", storage=tuning.study_storage(url, "optuna")
    )
    assert [t.state for t in reopened.trials] == [TrialState.COMPLETE] * 2
    # MLflow still opens its store, and finds what it had.
    assert MlflowClient(tracking_uri=url).get_experiment(experiment).name == "kept"
