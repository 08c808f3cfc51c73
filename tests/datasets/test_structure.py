"""Structure checks by format: npz arrays, word index JSON, IDX dimensions."""

from pathlib import Path

import numpy as np
import pytest

from keras_classics.datasets.errors import CorruptFileError
from keras_classics.datasets.structure import file_format
from tests.synthetic import write_idx_gz

MNIST_LIKE = {
    "arrays": {
        "x_train": {"dtype": "uint8", "shape": [None, 28, 28]},
        "y_train": {"dtype": "uint8", "ndim": 1},
    }
}


def read(path: Path, structure: dict | None):
    return file_format(path, structure).read(path)


@pytest.mark.parametrize(
    ("arrays", "complaint"),
    [
        ({"x_train": np.zeros((2, 28, 28), np.uint8)}, "array 'y_train' is missing"),
        (
            {"x_train": np.zeros((2, 28, 28)), "y_train": np.zeros(2, np.uint8)},
            "array 'x_train' has dtype float64, expected uint8",
        ),
        (
            {
                "x_train": np.zeros((2, 28, 27), np.uint8),
                "y_train": np.zeros(2, np.uint8),
            },
            r"array 'x_train' has shape \(2, 28, 27\), expected \(N, 28, 28\)",
        ),
        (
            {
                "x_train": np.zeros((2, 28, 28), np.uint8),
                "y_train": np.zeros(3, np.uint8),
            },
            "'x_train' has 2 rows but 'y_train' has 3",
        ),
    ],
)
def test_npz_not_matching_its_structure_is_corrupt(tmp_path, arrays, complaint):
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)

    with pytest.raises(CorruptFileError, match=complaint):
        read(path, MNIST_LIKE)


def test_npz_may_hold_more_arrays_than_required(tmp_path):
    path = tmp_path / "mnist.npz"
    arrays = {
        "x_train": np.zeros((2, 28, 28), np.uint8),
        "y_train": np.zeros(2, np.uint8),
        "extra": np.ones(1),
    }
    np.savez(path, **arrays)

    assert set(read(path, MNIST_LIKE)) == set(arrays)
    assert set(read(path, None)) == set(arrays)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('["the", "and"]', "not a non-empty JSON object"),
        ("{}", "not a non-empty JSON object"),
        ('{"the": "1"}', "word ranks are not all integers"),
        ('{"the": true}', "word ranks are not all integers"),
        ('{"the": 1', "invalid JSON"),
    ],
)
def test_json_must_be_a_word_index(tmp_path, text, complaint):
    path = tmp_path / "word_index.json"
    path.write_text(text)

    with pytest.raises(CorruptFileError, match=complaint):
        read(path, {"json": "word_index"})


def test_idx_dimensions_are_checked(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx_gz(path, np.arange(5, dtype=np.uint8))

    assert read(path, {"idx": {"kind": "labels"}}).shape == (5,)
    with pytest.raises(
        CorruptFileError, match=r"IDX shape \(5,\), expected \(N, 28, 28\)"
    ):
        read(path, {"idx": {"kind": "images", "dims": [None, 28, 28]}})
