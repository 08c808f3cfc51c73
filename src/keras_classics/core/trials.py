"""The trials of a hyperparameter search (``keras_classics.tuning``).

A trial runs the pipeline's build and training nodes on the trial's parameters, in
this process, one after another (the search's parallelism is across trials, one per
search node). ``EpochReporter`` - added to every ``fit`` of the trial - reports the
monitored metric to Optuna every ``report_every`` epochs and stops the trial when the
pruner says so. Each trial is a nested MLflow run under the search's run, named
``trial <number>``: the trial's parameters, every epoch's metrics, its validation
figures, and how it ended (tag ``optuna.state``).

The runs come from the catalog (``<search>.trial_runs``: ``NestedRuns``), made here as
the search goes, since how many there are, and when each ends, is the search's to
decide. Optuna's own MLflow callback (optuna-integration) logs a trial's run only
after the trial, so it can't give per-epoch metrics, nor a KILLED run for a stopped
search.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import keras
import optuna
from mlflow.entities import RunStatus
from optuna.trial import TrialState

from keras_classics.core import training
from keras_classics.core.errors import TrainingDivergedError
from keras_classics.core.tracking import NestedRuns
from keras_classics.hooks import flatten
from keras_classics.sweeps import apply_changes, curve_summary
from keras_classics.tuning import (
    FINISHED_STATES,
    TUNE,
    SearchError,
    SearchParameters,
    trial_pipeline,
    validation_output,
)

# Tags of a trial's MLflow run.
STUDY_TAG, TRIAL_TAG, STATE_TAG = "optuna.study", "optuna.trial", "optuna.state"
# Its lines (the model's summary, each fold's scores) would repeat at every trial.
NODES_LOGGER = "keras_classics.core.nodes"
logger = logging.getLogger(__name__)


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only warnings and errors of logger ``name`` in this context."""
    quieted = logging.getLogger(name)
    level = quieted.level
    quieted.setLevel(logging.WARNING)
    try:
        yield
    finally:
        quieted.setLevel(level)


def open_study(
    storage: optuna.storages.BaseStorage,
    settings: SearchParameters,
    worker: int,
    section: str,
) -> optuna.Study:
    """The study, created at its first search. The sampler's seed is offset by the
    worker and by the trials the study has, so that workers, and a resumed search,
    do not draw the same parameters again (``section``: the search's parameters, for
    the messages)."""
    study = optuna.create_study(
        storage=storage,
        study_name=settings.study,
        direction=settings.goal,
        pruner=settings.pruner.create(optuna.pruners, f"{section}.pruner"),
        load_if_exists=True,
    )
    sampler = settings.sampler.model_dump()
    if sampler.get("seed") is not None:
        sampler["seed"] += worker + len(study.trials)
    study.sampler = type(settings.sampler)(**sampler).create(
        optuna.samplers, f"{section}.sampler"
    )
    return study


def finished_trials(study: optuna.Study) -> int:
    states = tuple(TrialState[state] for state in FINISHED_STATES)
    return len(study.get_trials(deepcopy=False, states=states))


def optimize(  # noqa: PLR0913
    storage: optuna.storages.BaseStorage,
    runs: NestedRuns,
    settings: SearchParameters,
    name: str,
    base_params: Mapping[str, Any],
    data: Mapping[str, Any],
    worker: int,
) -> list[int]:
    """Trials of the study until it has ``n_trials`` finished (complete or pruned)
    ones, or ``timeout`` passed; the numbers of those run here. A trial whose training
    diverged fails, and the search goes on (until ``n_trials`` have failed here); any
    other error stops it."""
    optuna.logging.disable_default_handler()  # its lines go through Kedro's logging
    optuna.logging.enable_propagation()
    study = open_study(storage, settings, worker, f"{name}{TUNE}")
    ran: list[int] = []
    if finished_trials(study) >= settings.n_trials:
        logger.info(
            "Study %s has %d finished trials already (n_trials: %d): raise n_trials "
            "to search further.",
            settings.study,
            finished_trials(study),
            settings.n_trials,
        )
        return ran
    failed: list[int] = []

    def record(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Note the trial; stop once as many trials failed here as the study wants
        (failed trials don't count towards ``n_trials``: the search would go on)."""
        ran.append(trial.number)
        if trial.state == TrialState.FAIL:
            failed.append(trial.number)
            if len(failed) >= settings.n_trials:
                logger.warning(
                    "Stopping the search: %d trials failed here (%s).",
                    len(failed),
                    ", ".join(map(str, failed)),
                )
                study.stop()

    study.optimize(
        Objective(name, settings, base_params, data, runs),
        timeout=settings.timeout,
        catch=(TrainingDivergedError,),
        callbacks=[
            optuna.study.MaxTrialsCallback(
                settings.n_trials,
                states=tuple(TrialState[state] for state in FINISHED_STATES),
            ),
            record,
        ],
    )
    return ran


class EpochReporter(keras.callbacks.Callback):
    """Reports ``monitor`` to the trial every ``every`` epochs - as step, the epochs
    trained so far over every fit (fold) of the trial - and stops the trial when its
    pruner prunes it, recording where (``pruned_at_epoch``, ``pruned_at_fold``).
    Keeps each fit's per-epoch logs (``fits``). Each report and pruning check is a
    round trip to the study's database, so a long k-fold trial reports less often.

    Optuna's Keras callback (optuna-integration) reports each fit from step 0, so a
    k-fold trial's folds would report the same steps again."""

    def __init__(
        self, trial: optuna.Trial, monitor: str, parameter: str, every: int = 1
    ) -> None:
        super().__init__()
        self._trial, self._monitor, self._parameter = trial, monitor, parameter
        self._every = every
        self.fits: list[list[dict[str, float]]] = []

    def on_train_begin(self, logs=None) -> None:
        self.fits.append([])

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = dict(logs or {})
        self.fits[-1].append(logs)
        if self._monitor not in logs:
            raise SearchError(
                f"monitor is {self._monitor!r}, which training does not log; it logs "
                f"{', '.join(logs)}. Set {self._parameter} to one of its validation "
                "metrics (val_...)."
            )
        step = sum(len(fit) for fit in self.fits)
        if step % self._every:
            return
        self._trial.report(logs[self._monitor], step)
        if self._trial.should_prune():
            self._trial.set_user_attr("pruned_at_epoch", epoch + 1)
            self._trial.set_user_attr("pruned_at_fold", len(self.fits))
            raise optuna.TrialPruned(
                f"{self._monitor} {logs[self._monitor]:.4f} at epoch {epoch + 1}"
                + (f" of fold {len(self.fits)}" if len(self.fits) > 1 else "")
            )


class Objective:
    """A trial: the pipeline's training on parameters drawn from the search space,
    scored by ``metric``."""

    def __init__(  # noqa: PLR0913
        self,
        name: str,
        settings: SearchParameters,
        base_params: Mapping[str, Any],
        data: Mapping[str, Any],
        runs: NestedRuns,
    ) -> None:
        self._name, self._settings = name, settings
        self._base, self._data, self._runs = base_params, data, runs

    def __call__(self, trial: optuna.Trial) -> float:
        from keras_classics.pipeline_registry import shaped  # noqa: PLC0415

        changes = {
            path: dimension.suggest(trial, path)
            for path, dimension in self._settings.dimensions.items()
        }
        section = apply_changes(self._base, changes, f"{self._name}{TUNE}.space")
        reporter = EpochReporter(
            trial,
            self._settings.monitor,
            f"{self._name}{TUNE}.monitor",
            self._settings.report_every,
        )
        logger.info("Trial %d: %s", trial.number, _described(changes))
        base = shaped(self._name, section)
        validation = validation_output(base, self._name)
        base_is_kfold = validation.endswith("kfold_result")
        with trial_run(self._runs, trial, self._name, section) as run_id:
            try:
                with training.extra_callbacks(reporter), _quiet(NODES_LOGGER):
                    outputs = run_nodes(
                        trial_pipeline(base, self._name),
                        self._data,
                        self._name,
                        section,
                    )
                result = outputs[validation]
            finally:
                curves = epoch_metrics(reporter.fits, folds=base_is_kfold)
                self._runs.log(run_id, curves)
            figures = validation_figures(result)
            # A fold's final score is its curve's last value, logged with the curve.
            self._runs.log(
                run_id, {k: v for k, v in figures.items() if k not in curves}
            )
            if self._settings.metric not in figures:
                raise SearchError(
                    f"{self._name}{TUNE}.metric is {self._settings.metric!r}, not a "
                    f"validation figure of {self._name}; its figures are "
                    f"{', '.join(sorted(figures))}."
                )
            return figures[self._settings.metric]


def run_nodes(
    pipeline, data: Mapping[str, Any], name: str, section: Mapping[str, Any]
) -> dict[str, Any]:
    """Run ``pipeline``'s nodes in order on ``data`` and on the parameters of
    ``section`` (``params:<name>.<key>...``); every dataset, by name. The functions
    are called as they are, not through ``Node.run``, which logs a pruned trial's
    stop as a node's error."""
    values = dict(data)
    for node in pipeline.nodes:
        arguments = [
            _parameter(section, input_name, name)
            if input_name.startswith("params:")
            else values[input_name]
            for input_name in node.inputs
        ]
        result = node.func(*arguments)
        outputs = node.outputs
        values |= dict(
            zip(outputs, result if len(outputs) > 1 else [result], strict=True)
        )
    return values


def _parameter(section: Mapping[str, Any], input_name: str, name: str) -> Any:
    value: Any = section
    for part in input_name.removeprefix(f"params:{name}.").split("."):
        value = value[part]
    return value


def validation_figures(result: Mapping[str, Any]) -> dict[str, float]:
    """A training result's validation figures: a k-fold summary's own (``figures``:
    ``mean_fold_val_mae``...), and each validation curve's best epoch, best and final
    value (``best_val_accuracy``, ``final_val_loss``; k-fold: ``best_mean_val_mae``...:
    ``sweeps.curve_summary``)."""
    figures = dict(result.get("figures", {}))
    for curve, values in result["history"].items():
        if curve.startswith(("val_", "mean_val_")) and values:
            figures |= curve_summary(result, curve)
    return figures


@contextmanager
def trial_run(
    runs: NestedRuns, trial: optuna.Trial, name: str, section: Mapping[str, Any]
) -> Iterator[str | None]:
    """The trial's nested MLflow run (its id; None with tracking off), with the
    parameters of pipeline ``name`` (``section``), ended FINISHED (complete or pruned,
    tagged ``optuna.state``), FAILED, or KILLED on Ctrl-C."""
    run_id = runs.start(
        f"trial {trial.number}",
        {
            "pipeline": name,
            STUDY_TAG: trial.study.study_name,
            TRIAL_TAG: str(trial.number),
        },
        flatten({name: section}),
    )
    try:
        yield run_id
    except optuna.TrialPruned:
        _end(runs, run_id, "PRUNED", RunStatus.FINISHED, trial)
        raise
    except KeyboardInterrupt:
        _end(runs, run_id, "FAIL", RunStatus.KILLED, trial)
        raise
    except BaseException:
        _end(runs, run_id, "FAIL", RunStatus.FAILED, trial)
        raise
    _end(runs, run_id, "COMPLETE", RunStatus.FINISHED, trial)


def _end(
    runs: NestedRuns, run_id: str | None, state: str, status: int, trial: optuna.Trial
) -> None:
    tags = {STATE_TAG: state} | {
        f"optuna.{key}": str(value) for key, value in trial.user_attrs.items()
    }
    runs.end(run_id, RunStatus.to_string(status), tags)


def epoch_metrics(
    fits: list[list[dict[str, float]]], folds: bool
) -> dict[str, list[float]]:
    """Each fit's per-epoch logs as histories (with ``folds``, ``fold_<i>_<name>``
    for the i-th fit)."""
    return {
        f"fold_{fit}_{key}" if folds else key: [float(epoch[key]) for epoch in logs]
        for fit, logs in enumerate(fits)
        for key in (logs[0] if logs else {})
    }


def _described(changes: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{path} {value:.4g}" if isinstance(value, float) else f"{path} {value}"
        for path, value in changes.items()
    )
