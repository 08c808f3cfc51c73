"""``keras_semantics`` against Keras' own loaders, run on synthetic files."""

import numpy as np
import pytest
from keras.src.datasets import boston_housing, fashion_mnist, imdb, mnist, reuters

from keras_classics.datasets import keras_semantics
from keras_classics.datasets.idx import load_idx_gz
from keras_classics.datasets.npz import load_npz
from tests.synthetic import (
    digit_like_images,
    write_boston_npz,
    write_idx_gz,
    write_mnist_npz,
    write_sequences_npz,
)

FASHION_FILES = {
    "train_labels": "train-labels-idx1-ubyte.gz",
    "train_images": "train-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
}
SEQUENCE_ARGUMENTS = [
    {},
    {"num_words": 40},
    {"num_words": 30, "skip_top": 5, "maxlen": 25},
    {"start_char": None, "oov_char": None, "index_from": 0},
    {"start_char": None, "index_from": 2, "num_words": 20},
    {"seed": 7, "start_char": 9, "oov_char": 4, "index_from": 5, "maxlen": 30},
    {"maxlen": 12, "oov_char": None, "skip_top": 3},
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keras_files")
    write_boston_npz(folder / "boston_housing.npz", n=101)
    write_mnist_npz(folder / "mnist.npz", 30, 10)
    write_sequences_npz(folder / "imdb.npz", 40, 30, vocab=60)
    write_sequences_npz(folder / "reuters.npz", 50, 21, vocab=60, kind="reuters")
    for split, n in (("train", 12), ("test", 5)):
        images, labels = digit_like_images(n, seed=n)
        write_idx_gz(folder / FASHION_FILES[f"{split}_images"], images)
        write_idx_gz(folder / FASHION_FILES[f"{split}_labels"], labels)
    return folder


@pytest.fixture
def keras_reads(files, monkeypatch):
    """Point every Keras loader's ``get_file`` at the synthetic files."""
    for module in (boston_housing, mnist, imdb, reuters, fashion_mnist):
        monkeypatch.setattr(
            module,
            "get_file",
            lambda fname=None, *args, **kwargs: str(files / fname),
        )


def assert_same_split(ours, theirs):
    for our_array, their_array in zip(
        [*ours[0], *ours[1]], [*theirs[0], *theirs[1]], strict=True
    ):
        assert type(our_array) is type(their_array)
        assert our_array.dtype == their_array.dtype
        assert our_array.shape == their_array.shape
        if our_array.dtype == object:
            assert our_array.tolist() == their_array.tolist()
        else:
            np.testing.assert_array_equal(our_array, their_array)


@pytest.mark.parametrize(
    "arguments", [{}, {"test_split": 0.3, "seed": 7}, {"test_split": 0.0}]
)
def test_boston_housing_matches_keras(files, keras_reads, arguments):
    data = load_npz(files / "boston_housing.npz")

    assert_same_split(
        keras_semantics.boston_housing(data, **arguments),
        boston_housing.load_data(**arguments),
    )


def test_mnist_matches_keras(files, keras_reads):
    data = load_npz(files / "mnist.npz")

    assert_same_split(keras_semantics.mnist(data), mnist.load_data())


def test_idx_pair_matches_keras_fashion_mnist(files, keras_reads):
    arrays = {part: load_idx_gz(files / name) for part, name in FASHION_FILES.items()}

    assert_same_split(keras_semantics.idx_pair(**arrays), fashion_mnist.load_data())


def test_idx_pair_refuses_images_and_labels_of_different_lengths():
    images, labels = digit_like_images(4)

    with pytest.raises(ValueError, match=r"test images \(4\) and labels \(3\)"):
        keras_semantics.idx_pair(images, labels, images, labels[:3])


@pytest.mark.parametrize("arguments", SEQUENCE_ARGUMENTS)
def test_imdb_matches_keras(files, keras_reads, arguments):
    data = load_npz(files / "imdb.npz")

    assert_same_split(
        keras_semantics.imdb(data, **arguments), imdb.load_data(**arguments)
    )


@pytest.mark.parametrize(
    "arguments", [*SEQUENCE_ARGUMENTS, {"test_split": 0.5, "num_words": 25}]
)
def test_reuters_matches_keras(files, keras_reads, arguments):
    data = load_npz(files / "reuters.npz")

    assert_same_split(
        keras_semantics.reuters(data, **arguments), reuters.load_data(**arguments)
    )


def test_imdb_maxlen_keeping_nothing_fails_like_keras(files, keras_reads):
    data = load_npz(files / "imdb.npz")

    with pytest.raises(ValueError, match="no sequence was kept"):
        imdb.load_data(maxlen=2)
    with pytest.raises(ValueError, match="no sequence was kept"):
        keras_semantics.imdb(data, maxlen=2)


@pytest.mark.parametrize(
    ("function", "arguments", "complaint"),
    [
        ("boston_housing", {"test_split": 1.0}, "`test_split` argument: 1.0"),
        ("boston_housing", {"seed": -1}, "`seed` argument: -1"),
        ("imdb", {"num_words": 0}, "`num_words` argument: 0"),
        ("imdb", {"maxlen": 2.5}, "`maxlen` argument: 2.5"),
        ("imdb", {"skip_top": -3}, "`skip_top` argument: -3"),
        ("reuters", {"index_from": True}, "`index_from` argument: True"),
        ("reuters", {"oov_char": "2"}, "`oov_char` argument: '2'"),
        ("reuters", {"test_split": -0.1}, "`test_split` argument: -0.1"),
    ],
)
def test_invalid_arguments_are_named(function, arguments, complaint):
    with pytest.raises(ValueError, match=complaint):
        getattr(keras_semantics, function)({}, **arguments)


def test_word_index_offset_and_decode_follow_keras_conventions():
    word_index = {"the": 1, "film": 2, "was": 3}

    assert keras_semantics.word_index_offset(word_index) == {
        "the": 4,
        "film": 5,
        "was": 6,
    }
    assert keras_semantics.decode([1, 4, 5, 2, 6], word_index) == "? the film ? was"
