"""Wiring of the MNIST convnet pipeline.

``mnist.dataset`` decides the input: ``mnist`` (Keras' mnist.npz or the four IDX
files, whichever is present) or ``fashion_mnist``, registered as a model of its own
(``fashion_mnist``) and predicted with it by ``mnist_predict``.
"""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.nodes import first_test_images, package_model
from keras_classics.core.prediction import collect_images
from keras_classics.core.preparation import image_preparation
from keras_classics.core.stages import PREPARE, REPORT, bound

from . import nodes

GRAPH_PARAMETERS = ("dataset",)
DATASETS = ("mnist", "fashion_mnist")


def create_pipeline(dataset: str = "mnist", **kwargs) -> Pipeline:
    if dataset not in DATASETS:
        raise ValueError(
            f"mnist.dataset is {dataset!r}; use one of {', '.join(DATASETS)}."
        )
    class_names = f"params:class_names.{dataset}"
    report_inputs = ["x_test", "y_test", "test_outputs", class_names, "params:reports"]
    return Pipeline(
        [
            node(
                nodes.prepare_images,
                inputs=[
                    f"{dataset}_images",
                    "params:label_encoding",
                    class_names,
                    "params:model.compile.loss",
                ],
                outputs=["x_train", "y_train", "x_test", "y_test"],
                name="prepare_images",
                tags=PREPARE,
            ),
            stages.build(),
            stages.holdout_training(),
            stages.holdout_final_fit(),
            stages.evaluate("params:final.batch_size"),
            stages.learning_curves(),
            stages.confusion_matrix(class_names),
            stages.collect_metrics("curve", "best", "final_result", "test_metrics"),
            node(
                bound(image_preparation, scale=1 / 255, shape=[28, 28, 1]),
                inputs=class_names,
                outputs="preparation",
                name="describe_preparation",
                tags=REPORT,
            ),
            node(
                first_test_images,
                inputs=f"{dataset}_images",
                outputs="example_images",
                name="example_images",
                tags=REPORT,
            ),
            stages.package_model(
                "example_images",
                # Fashion-MNIST's convnet is a registered model of its own.
                bound(package_model, registered_model_name=dataset),
            ),
            node(
                nodes.labelled_test_images,
                inputs=report_inputs,
                outputs="test_images_plot",
                name="plot_test_images",
                tags=REPORT,
            ),
            node(
                nodes.confident_mistakes,
                inputs=report_inputs,
                outputs="confident_mistakes_plot",
                name="plot_confident_mistakes",
                tags=REPORT,
            ),
        ],
        namespace="mnist",
        inputs={f"{dataset}_images"},
    )


def create_predict_pipeline(dataset: str = "mnist", **kwargs) -> Pipeline:
    """``mnist_predict``: the class of each image file, by ``dataset``'s model."""
    model = "model" if dataset == "mnist" else f"{dataset}_model"
    return Pipeline(
        stages.predict(collect_images, model=model), namespace="mnist_predict"
    )
