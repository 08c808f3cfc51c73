"""Wiring of the Boston Housing k-fold pipeline.

Each fold is its own namespaced node (``boston_kfold.fold_<i>.train_fold``), so the
Parallel or a distributed runner trains folds at once; they return plain histories,
and MLflow logging happens once, downstream.
"""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node

from . import nodes

DEFAULT_K = 4


def create_pipeline(k: int = DEFAULT_K, **kwargs) -> Pipeline:
    """The pipeline with ``k`` fold-training nodes."""
    folds = [_fold(fold, k) for fold in range(k)]
    return Pipeline(
        [
            node(
                nodes.split_dataset,
                inputs=["boston_housing_raw", "params:split", "params:columns"],
                outputs=["train", "test"],
                name="split_dataset",
            ),
            node(
                nodes.fit_standardiser,
                inputs=["train", "params:columns"],
                outputs="feature_stats",
                name="fit_standardiser",
            ),
            node(
                nodes.standardise,
                inputs=["train", "test", "feature_stats", "params:columns"],
                outputs=["x_train", "y_train", "x_test", "y_test"],
                name="standardise",
            ),
            node(
                nodes.build_model,
                inputs=["params:model", "x_train"],
                outputs="architecture",
                name="build_model",
            ),
            *folds,
            node(
                nodes.summarise_folds,
                inputs=[f"fold_{fold}_result" for fold in range(k)],
                outputs=["fold_scores", "epoch_curves"],
                name="summarise_folds",
            ),
            node(
                nodes.choose_final_epochs,
                inputs=["epoch_curves", "params:final_epochs", "params:curve"],
                outputs="final_epochs",
                name="choose_final_epochs",
            ),
            node(
                nodes.train_final_model,
                inputs=[
                    "architecture",
                    "x_train",
                    "y_train",
                    "final_epochs",
                    "params:final_batch_size",
                    "params:seed",
                    "params:k",
                ],
                outputs=["model", "final_result"],
                name="train_final_model",
            ),
            node(
                nodes.evaluate,
                inputs=["model", "x_test", "y_test"],
                outputs="test_metrics",
                name="evaluate",
            ),
            node(
                nodes.collect_metrics,
                inputs=["fold_scores", "epoch_curves", "final_result", "test_metrics"],
                outputs=["mlflow_metrics", "metrics_json"],
                name="collect_metrics",
            ),
            node(
                nodes.plot_validation_mae,
                inputs=["epoch_curves", "params:curve", "params:k"],
                outputs="validation_mae_plot",
                name="plot_validation_mae",
            ),
            node(
                nodes.package_model,
                inputs=["model", "feature_stats", "test"],
                outputs="mlflow_model",
                name="package_model",
            ),
        ],
        namespace="boston_kfold",
        inputs={"boston_housing_raw"},
    )


def _fold(fold: int, k: int) -> Pipeline:
    train = update_wrapper(
        partial(nodes.train_fold, fold=fold, folds=k), nodes.train_fold
    )
    return Pipeline(
        [
            Node(
                train,
                inputs=[
                    "architecture",
                    "x_train",
                    "y_train",
                    "params:training",
                    "params:k",
                    "params:seed",
                ],
                outputs="result",
                name="train_fold",
            )
        ],
        namespace=f"fold_{fold}",
        inputs={"architecture", "x_train", "y_train"},
        outputs={"result": f"fold_{fold}_result"},
        parameters={"params:training", "params:k", "params:seed"},
    )
