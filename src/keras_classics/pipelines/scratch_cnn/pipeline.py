"""Wiring of the scratch CNN pipeline: the same stages as the others, NumPy inside."""

from kedro.pipeline import Pipeline, node

from keras_classics.core.classifier import confusion_matrix

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.select_subsets,
                inputs=["mnist_images", "params:train_samples", "params:test_samples"],
                outputs=["x_train", "y_train", "x_test", "y_test"],
                name="select_subsets",
            ),
            node(
                nodes.train,
                inputs=["x_train", "y_train", "params:training", "params:seed"],
                outputs=["trained_weights", "training_result"],
                name="train",
            ),
            node(
                nodes.evaluate,
                inputs=["trained_weights", "x_test", "y_test"],
                outputs=["test_metrics", "test_outputs"],
                name="evaluate",
            ),
            node(
                nodes.learning_curves,
                inputs="training_result",
                outputs=["loss_plot", "accuracy_plot"],
                name="plot_learning_curves",
            ),
            node(
                confusion_matrix,
                inputs=["y_test", "test_outputs", "params:class_names"],
                outputs="confusion_matrix_plot",
                name="plot_confusion_matrix",
            ),
            node(
                nodes.collect_metrics,
                inputs=["training_result", "test_metrics"],
                outputs=["mlflow_metrics", "metrics_json"],
                name="collect_metrics",
            ),
            node(
                nodes.weights_as_lists,
                inputs="trained_weights",
                outputs="weights",
                name="save_weights",
            ),
            node(
                nodes.package_model,
                inputs=["trained_weights", "x_test"],
                outputs="mlflow_model",
                name="package_model",
            ),
        ],
        namespace="scratch_cnn",
        inputs={"mnist_images"},
    )
