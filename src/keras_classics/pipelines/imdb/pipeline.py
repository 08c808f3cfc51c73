"""Wiring of the IMDB pipeline: ingest and prepare, then the shared hold-out stages.

``imdb.input`` picks the source: ``token_ids`` (Keras' imdb.npz, as in the book) or
``raw_text`` (Stanford's review texts, vectorised by a ``TextVectorization`` layer
inside the model, so that the saved model takes raw strings).
"""

from kedro.pipeline import Pipeline, node

from keras_classics.core.classifier import holdout_stages
from keras_classics.core.vectorize import vectorize_splits

from . import nodes

INPUTS = ("token_ids", "raw_text")


def create_pipeline(input: str = "token_ids", **kwargs) -> Pipeline:  # noqa: A002
    if input not in INPUTS:
        raise ValueError(f"imdb.input is {input!r}; use one of {', '.join(INPUTS)}.")
    if input == "raw_text":
        return Pipeline(
            [
                node(
                    nodes.load_texts,
                    inputs=["aclimdb_raw", "params:load"],
                    outputs=["x_train", "y_train", "x_test", "y_test"],
                    name="load_texts",
                ),
                holdout_stages(),
                node(
                    nodes.review_report,
                    inputs=["x_test", "y_test", "test_outputs", "params:decode"],
                    outputs="decoded_reviews",
                    name="review_report",
                ),
            ],
            namespace="imdb",
            inputs={"aclimdb_raw"},
        )
    return Pipeline(
        [
            node(
                nodes.load_reviews,
                inputs=["imdb_raw", "params:load"],
                outputs=["train_sequences", "y_train", "test_sequences", "y_test"],
                name="load_reviews",
            ),
            node(
                vectorize_splits,
                inputs=["train_sequences", "test_sequences", "params:load.num_words"],
                outputs=["x_train", "x_test"],
                name="vectorize",
            ),
            holdout_stages(),
            node(
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
            ),
        ],
        namespace="imdb",
        inputs={"imdb_raw", "imdb_word_index"},
    )
