"""Hyperparameter search with Optuna: ``kedro run --pipeline=<name>_tune``.

A pipeline with a ``<name>_tune`` section of parameters (``parameters_<name>_tune.yml``:
search space, number of trials, timeout, sampler, pruner) gets a search pipeline:
the pipeline's own ingest and prepare nodes, ``workers`` search nodes (which any
runner runs at once) and a report node. Each search node runs trials of one Optuna
study until the study has ``n_trials`` finished ones: a trial is the pipeline's build
and training nodes (hold-out curve or k-fold, not the final model) on the trial's
parameters, scored by a validation figure (``metric``), reporting ``monitor`` every
``report_every`` epochs so that the pruner stops hopeless trials early
(``keras_classics.core.trials``).

The study lives in a database (``StudyStorageDataset``): by default MLflow's own
(``mlflow.db``), so a stopped search resumes where it left off, and several ``kedro
run`` processes, or Dask workers, search one study at once. The report gives the best
parameters as a file for ``conf/local/``, every trial in a table, and Optuna's
optimisation-history and parameter-importance figures, in the MLflow run.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from kedro.io import AbstractDataset, DatasetError
from kedro.pipeline import Pipeline, node
from pydantic import Field, StrictFloat, StrictInt, model_validator

from keras_classics.core.parameters import (
    PositiveInt,
    Section,
    section_problems,
    suggestion,
)
from keras_classics.sweeps import apply_changes

if TYPE_CHECKING:
    import optuna
    import pandas as pd
    from matplotlib.figure import Figure

    from keras_classics.core.tracking import NestedRuns

TUNE = "_tune"  # <name>_tune: the hyperparameter search of pipeline <name>
# What a search node gives the report: the numbers of the trials it ran.
WORKER_TRIALS = "worker_{worker}_trials"
# Finished trials: what `n_trials` counts (a failed one does not: another takes its place).
FINISHED_STATES = ("COMPLETE", "PRUNED")
Number = StrictInt | StrictFloat
# The PostgreSQL advisory lock held while a study storage is made (any fixed number).
STORAGE_LOCK = 5_181_906


class SearchError(ValueError):
    """A search that cannot run as configured: the message says what to change."""


class Dimension(Section):
    """One parameter's range: Optuna's ``suggest_int``, ``suggest_float`` or
    ``suggest_categorical``."""

    type: Literal["int", "float", "categorical"]
    low: Number | None = None
    high: Number | None = None
    log: bool = False
    step: Number | None = None
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Dimension:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical dimension needs choices: [...]")
        elif self.low is None or self.high is None or self.low > self.high:
            raise ValueError(f"an {self.type} dimension needs low <= high")
        elif self.log and self.low <= 0:
            raise ValueError("a log-scaled dimension needs low > 0")
        elif self.log and self.step is not None:
            raise ValueError("a dimension has a step or is log-scaled, not both")
        return self

    def values(self) -> list[Any]:
        """The values a trial can get at the edges: low and high, or every choice."""
        if self.type == "categorical":
            return list(self.choices)
        cast = int if self.type == "int" else float
        return [cast(self.low), cast(self.high)]

    def suggest(self, trial: optuna.Trial, path: str) -> Any:
        """The trial's value for parameter ``path``."""
        if self.type == "categorical":
            return trial.suggest_categorical(path, self.choices)
        suggest = trial.suggest_int if self.type == "int" else trial.suggest_float
        step = {"step": self.step} if self.step is not None else {}
        return suggest(path, self.low, self.high, log=self.log, **step)


class OptunaObject(Section):
    """An Optuna sampler or pruner: its class name in ``optuna.samplers`` or
    ``optuna.pruners`` and its arguments; an argument set to null is left out (an
    environment's file changes the class so: the base's arguments set to null)."""

    type: str
    model_config = {**Section.model_config, "extra": "allow"}

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:  # any argument of the class
        return data

    def create(self, module: Any, parameter: str) -> Any:
        """The object, from ``module``; ``parameter`` (its place in conf) for the
        messages."""
        arguments = {
            key: value
            for key, value in self.model_dump().items()
            if key != "type" and value is not None
        }
        known = [name for name in dir(module) if name[0].isupper()]
        if self.type not in known:
            raise SearchError(
                f"{parameter}.type is {self.type!r}, not a class of {module.__name__}"
                f"{suggestion(self.type, known)}"
            )
        from optuna.exceptions import ExperimentalWarning  # noqa: PLC0415

        try:
            with warnings.catch_warnings():  # experimental arguments (constant_liar)
                warnings.simplefilter("ignore", ExperimentalWarning)
                return getattr(module, self.type)(**arguments)
        except (TypeError, ValueError) as error:
            raise SearchError(
                f"{parameter}: {self.type}({_arguments(arguments)}) fails: {error}. "
                f"Check its arguments; one the base conf gives that {self.type} does "
                "not take is set to null."
            ) from None


class SearchParameters(Section):
    """The schema of ``<name>_tune`` (``parameters_<name>_tune.yml``)."""

    study: str
    metric: str
    goal: Literal["minimize", "maximize"] = "minimize"
    monitor: str
    report_every: PositiveInt = 1
    n_trials: PositiveInt
    timeout: Annotated[Number, Field(gt=0)] | None = None
    workers: PositiveInt = 1
    sampler: OptunaObject = OptunaObject(type="TPESampler")
    pruner: OptunaObject = OptunaObject(type="MedianPruner")
    space: dict[str, Dimension | None]

    @model_validator(mode="after")
    def _searched(self) -> SearchParameters:
        if not self.dimensions:
            raise ValueError("space has no parameter to search (every one is null)")
        return self

    @property
    def dimensions(self) -> dict[str, Dimension]:
        """The searched parameters (a dimension set to null is not searched)."""
        return {path: d for path, d in self.space.items() if d is not None}


def _arguments(arguments: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())


def searched(parameters: Mapping[str, Any]) -> list[str]:
    """The pipelines ``parameters`` have a search section for."""
    from keras_classics.pipelines import PIPELINES  # noqa: PLC0415

    return [name for name in PIPELINES if parameters.get(f"{name}{TUNE}") is not None]


def space_problems(
    search: SearchParameters, base: Mapping[str, Any], name: str, schema: type[Section]
) -> list[str]:
    """What is wrong with the search of pipeline ``name`` before any trial runs: a
    sampler or pruner Optuna can't create, paths of the space that are not parameters
    of ``name`` (``base``, its section), and values at the edges of the space that its
    schema refuses."""
    import optuna  # noqa: PLC0415

    problems = []
    for kind, settings in (("sampler", search.sampler), ("pruner", search.pruner)):
        try:
            settings.create(getattr(optuna, f"{kind}s"), f"{name}{TUNE}.{kind}")
        except SearchError as error:
            problems.append(str(error))
    where = f"{name}{TUNE}.space"
    hint = f"a key of parameters_{name}.yml, with list items by index"
    for path, dimension in search.dimensions.items():
        for value in dimension.values():
            try:
                changed = apply_changes(base, {path: value}, where, hint)
            except ValueError as error:  # not a parameter: once for the path
                problems.append(str(error))
                break
            problems += [
                f"{where}.{path} = {value!r}: {problem}"
                for problem in section_problems(name, schema, changed)
            ]
    return problems


def create_pipeline(name: str, base: Pipeline, workers: int) -> Pipeline:
    """The search of pipeline ``name`` (built as ``base``): its data preparation,
    ``workers`` search nodes and the report."""
    from keras_classics.core.stages import REPORT, TRAIN, bound  # noqa: PLC0415

    tune = f"{name}{TUNE}"
    data = sorted(trial_pipeline(base, name).inputs() - _parameter_inputs(base))
    searches = [
        node(
            bound(search, name=name, data=data, worker=worker),
            inputs=[
                "study_storage",
                "trial_runs",
                f"params:{tune}",
                f"params:{name}",
                *data,
            ],
            outputs=WORKER_TRIALS.format(worker=worker),
            name=f"search_{worker}",
            tags=TRAIN,
        )
        for worker in range(workers)
    ]
    report = node(
        bound(summarise_search, name=name),
        inputs=[
            "study_storage",
            f"params:{tune}",
            f"params:{name}",
            *(WORKER_TRIALS.format(worker=worker) for worker in range(workers)),
        ],
        outputs=[
            "best_parameters",
            "trials",
            "optimization_history_plot",
            "param_importances_plot",
            "mlflow_metrics",
        ],
        name="summarise_search",
        tags=REPORT,
    )
    return base.to_outputs(*data) + Pipeline(
        [*searches, report],
        namespace=tune,
        inputs=set(data),
        parameters={f"params:{tune}", f"params:{name}"},
    )


def trial_pipeline(base: Pipeline, name: str) -> Pipeline:
    """What a trial runs of pipeline ``name``: its build and training nodes up to its
    validation result (a hold-out ``curve`` or the k-fold ``kfold_result``)."""
    from keras_classics.core.stages import BUILD, TRAIN  # noqa: PLC0415

    return base.only_nodes_with_tags(BUILD, TRAIN).to_outputs(
        validation_output(base, name)
    )


def validation_output(base: Pipeline, name: str) -> str:
    """The dataset of ``base`` with its validation result."""
    for dataset in ("kfold_result", "curve"):
        if f"{name}.{dataset}" in base.all_outputs():
            return f"{name}.{dataset}"
    raise SearchError(f"Pipeline {name} has no validation result to search on.")


def _parameter_inputs(pipeline: Pipeline) -> set[str]:
    return {name for name in pipeline.inputs() if name.startswith("params:")}


def search(  # noqa: PLR0913
    storage: optuna.storages.BaseStorage,
    trial_runs: NestedRuns,
    search_params: dict[str, Any],
    base_params: dict[str, Any],
    *inputs: Any,
    name: str,
    data: list[str],
    worker: int,
) -> list[int]:
    """Run trials of the study until it has ``n_trials`` finished ones (or for
    ``timeout`` seconds), on the prepared ``inputs`` (datasets ``data``), each in a run
    of ``trial_runs``; the numbers of the trials run here."""
    from keras_classics.core import trials  # noqa: PLC0415 (imports Keras, Optuna)

    return trials.optimize(
        storage,
        trial_runs,
        SearchParameters.model_validate(search_params),
        name,
        base_params,
        dict(zip(data, inputs, strict=True)),
        worker=worker,
    )


def summarise_search(
    storage: optuna.storages.BaseStorage,
    search_params: dict[str, Any],
    base_params: dict[str, Any],
    *worker_trials: list[int],
    name: str,
) -> tuple[dict[str, Any], pd.DataFrame, Figure, Figure, dict[str, float]]:
    """The study so far: the best trial's parameters of pipeline ``name`` as a file for
    ``conf/local/parameters_<name>.yml``, every trial in a table, Optuna's
    optimisation-history and parameter-importance figures, and the best trial's
    ``metric`` (``best_value``), its number and the trial counts (MLflow metrics).
    Takes the trial numbers of each search node, so that it runs after them."""
    import optuna  # noqa: PLC0415
    from optuna.visualization import matplotlib as plots  # noqa: PLC0415

    settings = SearchParameters.model_validate(search_params)
    study = optuna.load_study(study_name=settings.study, storage=storage)
    states = [trial.state.name for trial in study.trials]
    if "COMPLETE" not in states:
        raise SearchError(
            f"Study {settings.study} has no complete trial ({len(states)} trials: "
            f"{', '.join(sorted(set(states))) or 'none'}), so no best parameters. See "
            "the failed trials' errors above; if the pruner stopped every trial, raise "
            f"{name}{TUNE}.pruner's n_startup_trials or n_warmup_steps."
        )
    best = study.best_trial
    with warnings.catch_warnings():
        # Optuna marks its figures experimental; pyproject.toml pins its major version.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        history = _laid_out(plots.plot_optimization_history(study).figure)
        importances = importances_figure(study)
    counts = {
        f"{label}_trials": float(states.count(state))
        for state, label in (
            ("COMPLETE", "complete"),
            ("PRUNED", "pruned"),
            ("FAIL", "failed"),
        )
    }
    return (
        {name: conf_overrides(base_params, best.params)},
        trials_table(study),
        history,
        importances,
        {"best_value": float(best.value), "best_trial": float(best.number)} | counts,
    )


def conf_overrides(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict:
    """``changes`` (dotted paths) as the nested keys of a ``parameters_<name>.yml`` in
    ``conf/local/``. An environment's file overrides base's key by key (settings.py:
    ``merge_strategy: soft``), but a list as a whole: a path into a list
    (``model.layers.0.units``) gives the whole list, with its changes."""
    changed = apply_changes(base, changes, "best parameters")
    overrides: dict[str, Any] = {}
    for path in changes:
        parts = path.split(".")
        source, target = changed, overrides
        for depth, part in enumerate(parts):
            value = source[int(part) if isinstance(source, list) else part]
            if isinstance(value, list) or depth == len(parts) - 1:
                target[part] = copy.deepcopy(value)
                break
            source, target = value, target.setdefault(part, {})
    return overrides


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, score, parameters, where a pruned trial
    stopped, and duration."""
    table = study.trials_dataframe(
        attrs=("number", "state", "value", "params", "user_attrs", "duration")
    )
    table["duration"] = table["duration"].dt.total_seconds()
    return table.rename(columns={"duration": "seconds"})


def importances_figure(study: optuna.Study) -> Figure:
    """Optuna's parameter-importance figure; with fewer than two complete trials, or
    one parameter, a figure that says why there is none."""
    from optuna.visualization import matplotlib as plots  # noqa: PLC0415

    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(complete) >= 2 and len({p for t in complete for p in t.params}) >= 2:  # noqa: PLR2004
        return _laid_out(plots.plot_param_importances(study).figure)
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(6.4, 4.8))
    figure.text(
        0.5,
        0.5,
        "Parameter importances need two complete trials\nand two searched parameters",
        ha="center",
        va="center",
    )
    return figure


def _laid_out(figure: Figure) -> Figure:
    """``figure`` wide enough for parameter paths, its labels inside it."""
    figure.set_size_inches(9, 4.8)
    figure.tight_layout()
    return figure


class StudyStorageDataset(AbstractDataset[None, "optuna.storages.BaseStorage"]):
    """The database of Optuna studies: ``url`` (SQLAlchemy's), or with none MLflow's
    tracking database (``MLFLOW_TRACKING_URI``, the project's ``mlflow.db``).

    Optuna and MLflow each record their schema's version in an ``alembic_version``
    table, so they can't share one schema and both check it: in MLflow's SQLite file,
    Optuna's tables (``studies``, ``trials``, ...: no name clashes with MLflow's) are
    used without Optuna's check of that version; on PostgreSQL, Optuna gets a schema of
    its own, ``schema`` (its check kept). Loaded where a node runs (a worker process
    opens its own connection).
    """

    def __init__(
        self,
        url: str | None = None,
        schema: str = "optuna",
        metadata: dict[str, Any] | None = None,
    ):
        self._url = url
        self._schema = schema
        self.metadata = metadata

    def _load(self) -> optuna.storages.BaseStorage:
        url = self._url or tracking_database()
        if url is None:
            raise DatasetError(
                "The study storage has no url, and MLflow's tracking URI is a "
                "server's, not a database: give the studies a database - with "
                "--env=team, set KERAS_CLASSICS_STUDY_STORAGE to the SQLAlchemy URL "
                "of the MLflow server's PostgreSQL database (conf/team/"
                "catalog_tune.yml)."
            )
        return study_storage(url, self._schema)

    def _save(self, data: None) -> None:
        raise DatasetError("The study storage is read: trials are written by Optuna.")

    def _describe(self) -> dict[str, Any]:
        return {"url": "***" if self._url else None, "schema": self._schema}


def tracking_database() -> str | None:
    """MLflow's tracking URI when it is a database (not a server's address)."""
    import mlflow  # noqa: PLC0415

    uri = mlflow.get_tracking_uri()
    return uri if uri.startswith(("sqlite:", "postgresql", "mysql")) else None


def study_storage(url: str, schema: str) -> optuna.storages.RDBStorage:
    """Optuna's storage in the database ``url``, beside MLflow's tables (SQLite: the
    same file, without Optuna's schema-version check, which reads MLflow's version;
    PostgreSQL: in its own ``schema``). Made one process at a time: Optuna creates
    its tables with no guard against another process doing the same (two search
    workers starting together would fail with "table studies already exists")."""
    import optuna  # noqa: PLC0415

    if not url.startswith("postgresql"):
        from keras_classics.run_tracking import store_lock  # noqa: PLC0415

        with store_lock(url):
            return optuna.storages.RDBStorage(url, skip_compatibility_check=True)
    import sqlalchemy  # noqa: PLC0415

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            # A lock of this PostgreSQL database while the schema and tables are made.
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({STORAGE_LOCK})")
            try:
                connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                connection.commit()
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs={
                        "connect_args": {"options": f"-csearch_path={schema}"}
                    },
                )
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({STORAGE_LOCK})")
                connection.commit()
    finally:
        engine.dispose()
