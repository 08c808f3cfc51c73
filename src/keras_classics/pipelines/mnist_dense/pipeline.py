"""Wiring of the mnist_dense pipeline: prepare, then the shared stages."""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.stages import PREPARE

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.flatten_images,
                inputs=[
                    "mnist_images",
                    "params:class_names",
                    "params:model.compile.loss",
                ],
                outputs=["x_train", "y_train", "x_test", "y_test"],
                name="flatten_images",
                tags=PREPARE,
            ),
            stages.build(),
            stages.holdout_training(),
            stages.holdout_final_fit(),
            stages.evaluate("params:final.batch_size"),
            stages.learning_curves(),
            stages.confusion_matrix(),
            stages.collect_metrics("curve", "best", "final_result", "test_metrics"),
            stages.package_model(),
        ],
        namespace="mnist_dense",
        inputs={"mnist_images"},
    )
