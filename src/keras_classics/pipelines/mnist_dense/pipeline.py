"""Wiring of the mnist_dense pipeline: prepare, then the shared stages."""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.nodes import first_test_images
from keras_classics.core.prediction import collect_images
from keras_classics.core.preparation import image_preparation
from keras_classics.core.stages import PREPARE, REPORT, bound

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
            node(
                bound(image_preparation, scale=1 / 255, shape=[28 * 28]),
                inputs="params:class_names",
                outputs="preparation",
                name="describe_preparation",
                tags=REPORT,
            ),
            node(
                first_test_images,
                inputs="mnist_images",
                outputs="example_images",
                name="example_images",
                tags=REPORT,
            ),
            stages.package_model("example_images"),
        ],
        namespace="mnist_dense",
        inputs={"mnist_images"},
    )


def create_predict_pipeline(**kwargs) -> Pipeline:
    """``mnist_dense_predict``: the digit of each image file."""
    return Pipeline(stages.predict(collect_images), namespace="mnist_dense_predict")
