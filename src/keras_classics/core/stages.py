"""The stages every pipeline chains, as node factories on standard dataset names.

A pipeline reads top to bottom as ingest -> prepare -> build -> train -> evaluate ->
report: its own ingest and prepare nodes, then these, then its own reports. Every
node carries the tag of its stage (``STAGES``), so ``kedro run --tags=train`` or
kedro-viz's tag filter pick stages out.

The standard names, inside the pipeline's namespace: ``x_train``, ``y_train``,
``x_test``, ``y_test`` (prepared data), ``architecture`` (the untrained model),
``curve`` (hold-out) or ``kfold_result`` (k-fold), ``final_epochs``, ``model`` and
``final_result``, ``test_metrics`` and ``test_outputs``; the reports
``mlflow_metrics``, ``metrics_json``, ``<figure>_plot`` and ``mlflow_model`` are
catalog_shared.yml's factories. Parameters: ``model``, ``training``, ``seed``, and
``validation_samples``, ``final_epochs``, ``final`` (hold-out) or ``k``-dependent
ones (k-fold).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node

from keras_classics.core import classifier, nodes, prediction

INGEST, PREPARE, BUILD, TRAIN, EVALUATE, REPORT = STAGES = (
    "ingest",
    "prepare",
    "build",
    "train",
    "evaluate",
    "report",
)


class _NamedPartial(partial):
    """A ``functools.partial`` that keeps the name ``update_wrapper`` gave it in worker
    processes too. multiprocessing pickles a plain partial without its attributes
    (``multiprocessing.reduction`` registers its own reducer for ``functools.partial``,
    not for subclasses), so a parallel runner's worker would log the node's function
    as '<partial>' and Kedro would warn about it."""


def bound(func: Callable, **arguments) -> Callable:
    """``func`` with keyword ``arguments`` fixed when the pipeline is built, under
    ``func``'s name (for node names and kedro-viz)."""
    return update_wrapper(_NamedPartial(func, **arguments), func)


def _stage(func: Callable, inputs, outputs, *, name: str, stage: str) -> Pipeline:
    """A stage of one node."""
    return Pipeline([node(func, inputs, outputs, name=name, tags=stage)])


def build(
    func: Callable = nodes.build_architecture,
    inputs: Sequence[str] = ("params:model", "x_train"),
) -> Pipeline:
    """The untrained model (``architecture``) from ``params:model``."""
    return _stage(func, list(inputs), "architecture", name="build_model", stage=BUILD)


def holdout_training() -> Pipeline:
    """The validation curve on a hold-out set (``curve``), its best epoch, and the
    number of epochs for the final model."""
    return Pipeline(
        [
            node(
                nodes.train_with_holdout,
                inputs=[
                    "architecture",
                    "x_train",
                    "y_train",
                    "params:validation_samples",
                    "params:training",
                    "params:seed",
                ],
                outputs="curve",
                name="train_with_holdout",
            ),
            node(nodes.best_epoch, "curve", "best", name="best_epoch"),
            _choose_final_epochs(),
        ],
        tags=TRAIN,
    )


def kfold_training(k: int, score: str) -> Pipeline:
    """The training set's ``k`` validation slices (``params:k``), a node per fold
    (``fold_<i>.train_fold``, so that parallel runners train folds at once), their
    curves and scores (``score``, e.g. ``val_mae``), the epoch where the book's
    smoothed mean ``score`` curve is lowest, and the number of epochs for the final
    model."""
    splits = [f"fold_{fold}_split" for fold in range(k)]
    folds = [
        Pipeline(
            [
                node(
                    nodes.train_fold,
                    inputs=[
                        "architecture",
                        "x_train",
                        "y_train",
                        "split",
                        "params:training",
                        "params:seed",
                    ],
                    outputs="result",
                    name="train_fold",
                )
            ],
            namespace=f"fold_{fold}",
            inputs={
                **{name: name for name in ("architecture", "x_train", "y_train")},
                "split": splits[fold],
            },
            outputs={"result": f"fold_{fold}_result"},
            parameters={"params:training", "params:seed"},
        )
        for fold in range(k)
    ]
    return Pipeline(
        [
            node(
                nodes.split_folds,
                ["x_train", "params:k", "params:training.batch_size"],
                splits,
                name="split_folds",
            ),
            *folds,
            node(
                bound(nodes.summarise_folds, score=score),
                inputs=[f"fold_{fold}_result" for fold in range(k)],
                outputs=["fold_scores", "epoch_curves", "kfold_result"],
                name="summarise_folds",
            ),
            node(
                bound(nodes.smoothed_curve, column=f"mean_{score}"),
                inputs=["epoch_curves", "params:curve"],
                outputs="smoothed_curve",
                name="smooth_mean_curve",
            ),
            node(nodes.lowest_epoch, "smoothed_curve", "best", name="best_epoch"),
            _choose_final_epochs(),
        ],
        tags=TRAIN,
    )


def _choose_final_epochs() -> Node:
    return node(
        nodes.choose_final_epochs,
        inputs=["params:final_epochs", "best"],
        outputs="final_epochs",
        name="choose_final_epochs",
    )


def final_fit(batch_size: str, after_models: int, data: Sequence[str] = ()) -> Pipeline:
    """A fresh model (``model``) trained ``final_epochs`` with ``batch_size`` (a
    parameter's name), seeded after the ``after_models`` models trained before it; on
    all training data, or as ``data`` says (``params:final.data``,
    ``params:validation_samples``)."""
    return _stage(
        bound(nodes.train_final_model, after_models=after_models),
        inputs=[
            "architecture",
            "x_train",
            "y_train",
            "final_epochs",
            batch_size,
            "params:seed",
            *data,
        ],
        outputs=["model", "final_result"],
        name="train_final_model",
        stage=TRAIN,
    )


def holdout_final_fit() -> Pipeline:
    """``final_fit`` after a hold-out curve: ``params:final`` (``data``, ``batch_size``)
    says how."""
    return final_fit(
        "params:final.batch_size",
        after_models=1,
        data=("params:final.data", "params:validation_samples"),
    )


def evaluate(batch_size: str | None = None, loss: str = "loss") -> Pipeline:
    """The final model's test figures (``test_metrics``: ``test_<loss>``, then
    ``test_<metric>`` per compiled metric) and outputs (``test_outputs``)."""
    inputs = ["model", "x_test", "y_test", *([batch_size] if batch_size else [])]
    return _stage(
        bound(nodes.evaluate, loss=loss),
        inputs=inputs,
        outputs=["test_metrics", "test_outputs"],
        name="evaluate",
        stage=EVALUATE,
    )


def collect_metrics(*results: str) -> Pipeline:
    """Everything MLflow records of the run (``mlflow_metrics``) and its figures
    (``metrics_json``), from training results and figures (``nodes.collect_metrics``)."""
    return _stage(
        nodes.collect_metrics,
        inputs=list(results),
        outputs=["mlflow_metrics", "metrics_json"],
        name="collect_metrics",
        stage=REPORT,
    )


def learning_curves(curve: str = "curve") -> Pipeline:
    """The book's loss and accuracy figures of ``curve``."""
    return _stage(
        nodes.learning_curves,
        inputs=curve,
        outputs=["loss_plot", "accuracy_plot"],
        name="plot_learning_curves",
        stage=REPORT,
    )


def package_model(
    raw_examples: str,
    func: Callable = nodes.package_model,
    inputs: Sequence[str] = ("model", "preparation"),
) -> Pipeline:
    """The model MLflow logs and registers (``mlflow_model``), served with its
    ``preparation`` (saved beside ``model``: ``preparation.json``) so that it takes
    raw inputs (``raw_examples``: a few)."""
    return _stage(
        func,
        inputs=[*inputs, raw_examples],
        outputs="mlflow_model",
        name="package_model",
        stage=REPORT,
    )


def predict(
    collect: Callable, inputs: Sequence[str] = ("inputs",), model: str = "model"
) -> Pipeline:
    """A batch-prediction pipeline: a person's files (``inputs``, read by ``collect``)
    answered by ``model`` (``predictions``, and the count of inputs in
    ``mlflow_metrics``)."""
    return Pipeline(
        [
            node(
                collect, list(inputs), "raw_inputs", name="collect_inputs", tags=INGEST
            ),
            node(
                prediction.predict,
                inputs=[model, "raw_inputs"],
                outputs=["predictions", "mlflow_metrics"],
                name="predict",
                tags=EVALUATE,
            ),
        ]
    )


def confusion_matrix(class_names: str = "params:class_names") -> Pipeline:
    """The test set's confusion matrix figure, for classifiers."""
    return _stage(
        classifier.confusion_matrix,
        inputs=["y_test", "test_outputs", class_names],
        outputs="confusion_matrix_plot",
        name="plot_confusion_matrix",
        stage=REPORT,
    )
