"""Wiring of the Reuters pipeline: ingest and prepare, then the shared hold-out stages."""

from kedro.pipeline import Pipeline, node

from keras_classics.core.classifier import class_report, encode_labels, holdout_stages
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
            ),
            node(
                vectorize_splits,
                inputs=["train_sequences", "test_sequences", "params:load.num_words"],
                outputs=["x_train", "x_test"],
                name="vectorize",
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
            ),
            node(
                nodes.random_baseline,
                inputs=["test_topics", "params:seed"],
                outputs="random_baseline",
                name="random_baseline",
            ),
            holdout_stages(extra_metrics=("random_baseline",)),
            node(
                class_report,
                inputs=["y_test", "test_outputs", "params:class_names"],
                outputs="class_report",
                name="class_report",
            ),
        ],
        namespace="reuters",
        inputs={"reuters_raw"},
    )
