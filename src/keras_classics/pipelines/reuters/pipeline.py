"""Wiring of the Reuters pipeline."""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.classifier import class_report, encode_labels
from keras_classics.core.nodes import decoded_examples
from keras_classics.core.prediction import collect_texts
from keras_classics.core.preparation import word_id_preparation
from keras_classics.core.stages import EVALUATE, INGEST, PREPARE, REPORT, bound
from keras_classics.core.vectorize import vectorize_splits

from . import nodes

TOP_K = 3  # predictions.csv's top_3


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
            node(
                bound(word_id_preparation, top_k=TOP_K),
                inputs=["reuters_word_index", "params:load", "params:class_names"],
                outputs="preparation",
                name="describe_preparation",
                tags=REPORT,
            ),
            node(
                decoded_examples,
                inputs=["test_sequences", "reuters_word_index", "params:load"],
                outputs="example_newswires",
                name="example_newswires",
                tags=REPORT,
            ),
            stages.package_model("example_newswires"),
            node(
                class_report,
                inputs=["y_test", "test_outputs", "params:class_names"],
                outputs="class_report",
                name="class_report",
                tags=REPORT,
            ),
        ],
        namespace="reuters",
        inputs={"reuters_raw", "reuters_word_index"},
    )


def create_predict_pipeline(**kwargs) -> Pipeline:
    """``reuters_predict``: the topic (and the top 3) of each newswire text file."""
    return Pipeline(stages.predict(collect_texts), namespace="reuters_predict")
