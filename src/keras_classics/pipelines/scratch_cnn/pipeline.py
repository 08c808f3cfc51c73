"""Wiring of the scratch CNN pipeline: the same stages as the others, NumPy inside."""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.prediction import collect_images
from keras_classics.core.preparation import image_preparation
from keras_classics.core.stages import EVALUATE, PREPARE, REPORT, TRAIN, bound

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
            node(
                bound(image_preparation, scale=1.0, shape=[28, 28]),
                inputs="params:class_names",
                outputs="preparation",
                name="describe_preparation",
                tags=REPORT,
            ),
            stages.package_model(
                "x_test", nodes.package_model, ["trained_weights", "preparation"]
            ),
        ],
        namespace="scratch_cnn",
        inputs={"mnist_images"},
    )


def create_predict_pipeline(**kwargs) -> Pipeline:
    """``scratch_cnn_predict``: the digit of each image file, by Zhou's network."""
    return Pipeline(stages.predict(collect_images), namespace="scratch_cnn_predict")
