"""Wiring of the Reuters pipeline."""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.classifier import class_report, encode_labels
from keras_classics.core.stages import EVALUATE, INGEST, PREPARE, REPORT
from keras_classics.core.vectorize import vectorize_splits

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.load_newswires,
                inputs=["reuters_raw", "params:load"],
                outputs=[
                    "train_sequences",
                    "train_topics",
                    "test_sequences",
                    "test_topics",
                ],
                name="load_newswires",
                tags=INGEST,
            ),
            node(
                vectorize_splits,
                inputs=["train_sequences", "test_sequences", "params:load.num_words"],
                outputs=["x_train", "x_test"],
                name="vectorize",
                tags=PREPARE,
            ),
            node(
                encode_labels,
                inputs=[
                    "train_topics",
                    "test_topics",
                    "params:label_encoding",
                    "params:class_names",
                    "params:model.compile.loss",
                ],
                outputs=["y_train", "y_test"],
                name="encode_labels",
                tags=PREPARE,
            ),
            stages.build(),
            stages.holdout_training(),
            stages.holdout_final_fit(),
            stages.evaluate("params:final.batch_size"),
            node(
                nodes.random_baseline,
                inputs=["test_topics", "params:seed"],
                outputs="random_baseline",
                name="random_baseline",
                tags=EVALUATE,
            ),
            stages.learning_curves(),
            stages.confusion_matrix(),
            stages.collect_metrics(
                "curve", "best", "final_result", "test_metrics", "random_baseline"
            ),
            stages.package_model(),
            node(
                class_report,
                inputs=["y_test", "test_outputs", "params:class_names"],
                outputs="class_report",
                name="class_report",
                tags=REPORT,
            ),
        ],
        namespace="reuters",
        inputs={"reuters_raw"},
    )
