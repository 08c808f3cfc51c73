"""Wiring of the MNIST convnet pipeline.

``mnist.dataset`` decides the input: ``mnist`` (Keras' mnist.npz or the four IDX
files, whichever is present) or ``fashion_mnist``.
"""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.stages import PREPARE, REPORT

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
            stages.package_model(),
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
