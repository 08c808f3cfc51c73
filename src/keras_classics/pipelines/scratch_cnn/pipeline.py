"""Wiring of the scratch CNN pipeline: the same stages as the others, NumPy inside."""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.stages import EVALUATE, PREPARE, REPORT, TRAIN

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.select_subsets,
                inputs=["mnist_images", "params:train_samples", "params:test_samples"],
                outputs=["x_train", "y_train", "x_test", "y_test"],
                name="select_subsets",
                tags=PREPARE,
            ),
            stages.build(nodes.build_network, ["params:model", "params:seed"]),
            node(
                nodes.train,
                inputs=[
                    "architecture",
                    "x_train",
                    "y_train",
                    "params:training",
                    "params:seed",
                ],
                outputs=["trained_weights", "training_result"],
                name="train",
                tags=TRAIN,
            ),
            node(
                nodes.evaluate,
                inputs=["trained_weights", "x_test", "y_test"],
                outputs=["test_metrics", "test_outputs"],
                name="evaluate",
                tags=EVALUATE,
            ),
            stages.learning_curves("training_result"),
            stages.confusion_matrix(),
            stages.collect_metrics("training_result", "test_metrics"),
            node(
                nodes.weights_as_lists,
                inputs="trained_weights",
                outputs="weights",
                name="save_weights",
                tags=REPORT,
            ),
            stages.package_model(nodes.package_model, ["trained_weights", "x_test"]),
        ],
        namespace="scratch_cnn",
        inputs={"mnist_images"},
    )
