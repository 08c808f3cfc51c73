"""Wiring of the IMDB pipeline.

``imdb.input`` decides the ingest and prepare nodes: ``token_ids`` (Keras' imdb.npz,
as in the book) or ``raw_text`` (Stanford's review texts, vectorised by a
``TextVectorization`` layer inside the model, so that the saved model takes raw
strings; ``kedro run --env=raw_text``). Either variant's served model takes texts;
each version is tagged ``imdb.input`` in the registry.
"""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.nodes import decoded_examples
from keras_classics.core.prediction import collect_texts
from keras_classics.core.preparation import text_preparation, word_id_preparation
from keras_classics.core.stages import INGEST, PREPARE, REPORT
from keras_classics.core.vectorize import vectorize_splits

from . import nodes

GRAPH_PARAMETERS = ("input",)
INPUTS = ("token_ids", "raw_text")


def create_pipeline(input: str = "token_ids", **kwargs) -> Pipeline:  # noqa: A002
    if input not in INPUTS:
        raise ValueError(f"imdb.input is {input!r}; use one of {', '.join(INPUTS)}.")
    if input == "raw_text":
        ingest = [
            node(
                nodes.load_texts,
                inputs=["aclimdb_raw", "params:load"],
                outputs=["x_train", "y_train", "x_test", "y_test"],
                name="load_texts",
                tags=INGEST,
            )
        ]
        preparation = node(
            text_preparation,
            inputs="params:class_names",
            outputs="preparation",
            name="describe_preparation",
            tags=REPORT,
        )
        examples, raw_examples = [], "x_test"  # the test texts themselves
        report = node(
            nodes.review_report,
            inputs=["x_test", "y_test", "test_outputs", "params:decode"],
            outputs="decoded_reviews",
            name="review_report",
            tags=REPORT,
        )
    else:
        ingest = [
            node(
                nodes.load_reviews,
                inputs=["imdb_raw", "params:load"],
                outputs=["train_sequences", "y_train", "test_sequences", "y_test"],
                name="load_reviews",
                tags=INGEST,
            ),
            node(
                vectorize_splits,
                inputs=["train_sequences", "test_sequences", "params:load.num_words"],
                outputs=["x_train", "x_test"],
                name="vectorize",
                tags=PREPARE,
            ),
        ]
        preparation = node(
            word_id_preparation,
            inputs=["imdb_word_index", "params:load", "params:class_names"],
            outputs="preparation",
            name="describe_preparation",
            tags=REPORT,
        )
        examples = [
            node(
                decoded_examples,
                inputs=["test_sequences", "imdb_word_index", "params:load"],
                outputs="example_reviews",
                name="example_reviews",
                tags=REPORT,
            )
        ]
        raw_examples = "example_reviews"
        report = node(
            nodes.decode_reviews,
            inputs=[
                "test_sequences",
                "y_test",
                "test_outputs",
                "imdb_word_index",
                "params:load",
                "params:decode",
            ],
            outputs="decoded_reviews",
            name="decode_reviews",
            tags=REPORT,
        )
    return Pipeline(
        [
            *ingest,
            stages.build(),
            stages.holdout_training(),
            stages.holdout_final_fit(),
            stages.evaluate("params:final.batch_size"),
            stages.learning_curves(),
            stages.confusion_matrix(),
            stages.collect_metrics("curve", "best", "final_result", "test_metrics"),
            report,
            preparation,
            *examples,
            stages.package_model(raw_examples),
        ],
        namespace="imdb",
        inputs={"aclimdb_raw"}
        if input == "raw_text"
        else {"imdb_raw", "imdb_word_index"},
    )


def create_predict_pipeline(**kwargs) -> Pipeline:
    """``imdb_predict``: the sentiment of each text file (either variant's model)."""
    return Pipeline(stages.predict(collect_texts), namespace="imdb_predict")
