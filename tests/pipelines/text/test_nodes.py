import numpy as np
import pytest

from keras_classics.core import classifier
from keras_classics.pipelines.imdb import nodes as imdb_nodes
from keras_classics.pipelines.reuters import nodes as reuters_nodes

NAMES = ["a", "b", "c", "d"]


def test_one_hot_and_integer_labels_carry_the_same_topics():
    train, test = np.array([3, 0, 2]), np.array([1])
    one_hot, one_hot_test = classifier.encode_labels(
        train, test, "one_hot", NAMES, "categorical_crossentropy"
    )
    integers, _ = classifier.encode_labels(
        train, test, "integer", NAMES, "sparse_categorical_crossentropy"
    )
    assert one_hot.shape == (3, 4) and one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot.argmax(axis=1), integers)
    np.testing.assert_array_equal(one_hot_test, [[0, 1, 0, 0]])


@pytest.mark.parametrize(
    ("encoding", "loss", "message"),
    [
        (
            "one_hot",
            "sparse_categorical_crossentropy",
            "needs the loss 'categorical_crossentropy'",
        ),
        ("ordinal", "categorical_crossentropy", "use one of one_hot, integer"),
    ],
)
def test_label_encoding_and_loss_must_fit(encoding, loss, message):
    with pytest.raises(ValueError, match=message):
        classifier.encode_labels(np.array([0]), np.array([0]), encoding, NAMES, loss)


def test_random_baseline_is_chance_level_and_repeatable():
    topics = np.random.default_rng(0).integers(0, 4, 4000)
    first = reuters_nodes.random_baseline(topics, seed=1)["random_baseline_accuracy"]
    assert (
        first
        == reuters_nodes.random_baseline(topics, seed=1)["random_baseline_accuracy"]
    )
    assert 0.2 < first < 0.3


def test_raw_texts_are_shuffled_together_with_their_labels():
    raw = {
        "train_texts": np.array(
            [f"good {i}" for i in range(5)] + [f"bad {i}" for i in range(5)],
            dtype=object,
        ),
        "train_labels": np.array([1] * 5 + [0] * 5),
        "test_texts": np.array(["good x", "bad y"], dtype=object),
        "test_labels": np.array([1, 0]),
    }
    x_train, y_train, x_test, y_test = imdb_nodes.load_texts(raw, {"seed": 113})
    assert sorted(x_train) == sorted(raw["train_texts"])
    assert list(x_train) != list(raw["train_texts"])
    assert all(
        (text.startswith("good")) == bool(label)
        for text, label in zip(x_train, y_train, strict=True)
    )
    assert y_train.dtype == np.float32 and len(x_test) == len(y_test) == 2


def test_decoded_reviews_read_as_the_book_shows_them():
    word_index = {"this": 1, "film": 2, "was": 3, "brilliant": 4}
    sequences = np.array(
        [[1, 4, 5, 6, 7, 2]], dtype=object
    )  # start_char, then ids shifted by 3
    report = imdb_nodes.decode_reviews(
        sequences,
        np.array([1.0]),
        np.array([[0.9]]),
        word_index,
        {"index_from": 3},
        {"reviews": 1},
    )
    assert report.loc[0, "review"] == "? this film was brilliant ?"
    assert report.loc[0, "predicted_label"] == 1 and report.loc[0, "true_label"] == 1
