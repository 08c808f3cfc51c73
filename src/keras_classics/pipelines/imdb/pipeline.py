"""Wiring of the IMDB pipeline: ingest and prepare, then the shared hold-out stages."""

from kedro.pipeline import Pipeline, node

from keras_classics.core.classifier import holdout_stages
from keras_classics.core.vectorize import vectorize_splits

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
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
