"""Bad inputs to the batch-prediction pipelines (``<name>_predict``): each gets one
error that names the file (and row or column) and what is wrong, and no partial
``predictions.csv`` is left; an empty folder says where to put files; no registered
model says which training command to run."""

from __future__ import annotations

import numpy as np
import pytest
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.pillow import ImageDataset
from kedro_datasets.text import TextDataset
from PIL import Image

from keras_classics.core.prediction import (
    collect_images,
    collect_rows,
    collect_texts,
    mnist_digit,
)
from keras_classics.core.preparation import InputError
from tests.project import Project

FEATURES = ["CRIM", "RM", "LSTAT"]


def loaders(folder, dataset):
    """What ``PartitionedDataset`` hands a node: a loader per file."""
    return {path.name: dataset(filepath=str(path)).load for path in folder.iterdir()}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("CRIM,RM\n0.1,6\n", "houses.csv: no column LSTAT"),
        (
            "CRIM,RM,LSTAT\n0.1,6,4\n0.2,six,5\n",
            "houses.csv:2: RM is 'six', not a number",
        ),
        ("CRIM,RM,LSTAT\n0.1,6,4\n0.2,,5\n", "houses.csv:2: RM is nan, not a number"),
        ("CRIM,RM,LSTAT\n", "houses.csv: the file has no data rows"),
    ],
    ids=["missing-column", "non-numeric", "empty-value", "no-rows"],
)
def test_a_bad_csv_is_named_with_its_row_or_column(tmp_path, content, message):
    (tmp_path / "houses.csv").write_text(content)
    with pytest.raises(InputError, match=message):
        collect_rows(loaders(tmp_path, CSVDataset), FEATURES)


def test_csv_rows_are_named_file_row_and_extra_columns_ignored(tmp_path):
    (tmp_path / "b.csv").write_text("LSTAT,note,RM,CRIM\n4,x,6,0.1\n5,y,7,0.2\n")
    (tmp_path / "a.csv").write_text("CRIM,RM,LSTAT\n1,2,3\n")
    rows = collect_rows(loaders(tmp_path, CSVDataset), FEATURES)
    assert rows.names == ["a.csv:1", "b.csv:1", "b.csv:2"]
    np.testing.assert_array_equal(rows.values, [[1, 2, 3], [0.1, 6, 4], [0.2, 7, 5]])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"  \n\n", "empty.txt: the text is empty"),
        (b"caf\xe9 latin-1", "empty.txt: not readable as UTF-8 text"),
    ],
    ids=["empty-text", "not-utf8"],
)
def test_a_bad_text_is_named(tmp_path, content, message):
    (tmp_path / "empty.txt").write_bytes(content)
    dataset = lambda filepath: TextDataset(  # noqa: E731
        filepath=filepath, fs_args={"open_args_load": {"encoding": "utf-8"}}
    )
    with pytest.raises(InputError, match=message):
        collect_texts(loaders(tmp_path, dataset))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not an image at all", "photo.png: not a readable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "photo.png: not a readable image"),
    ],
    ids=["not-an-image", "truncated-png"],
)
def test_an_unreadable_image_is_named(tmp_path, content, message):
    (tmp_path / "photo.png").write_bytes(content)
    with pytest.raises(InputError, match=message):
        collect_images(loaders(tmp_path, ImageDataset))


def test_a_blank_image_has_no_digit(tmp_path):
    Image.new("RGB", (50, 40), "white").save(tmp_path / "blank.png")
    with pytest.raises(InputError, match="blank.png: no digit found"):
        collect_images(loaders(tmp_path, ImageDataset))


def digit() -> np.ndarray:
    """A 28 x 28 MNIST-like "7": white strokes on black, inside the empty frame."""
    image = np.zeros((28, 28))
    image[6:9, 8:21] = 255
    for row in range(9, 23):
        image[row, 20 - (row - 9) // 2 : 23 - (row - 9) // 2] = 255
    return image


def test_a_photo_of_ink_on_paper_becomes_mnists_white_on_black_digit():
    """Dark ink on tinted paper, five times MNIST's size, becomes the same digit as
    the white-on-black copy: fitted in MNIST's 20 x 20 box and centred by its centre
    of mass."""
    original = np.kron(digit(), np.ones((5, 5)))  # 140 x 140, white on black
    paper = 255 - original
    photo = np.stack([paper, paper * 0.9 + 20, paper * 0.8 + 40], axis=-1)
    from_photo = mnist_digit(Image.fromarray(photo.clip(0, 255).astype(np.uint8)))
    plain = mnist_digit(Image.fromarray(original.astype(np.uint8)))
    assert from_photo.shape == (28, 28) and from_photo.dtype == np.uint8
    assert np.abs(from_photo.astype(int) - plain).max() <= 8
    rows, columns = np.nonzero(from_photo > 25)
    assert rows.max() - rows.min() + 1 == 20  # the digit is taller than wide
    assert columns.max() - columns.min() + 1 <= 20
    weight = from_photo / from_photo.sum()
    centre = (weight.sum(axis=1) @ np.arange(28), weight.sum(axis=0) @ np.arange(28))
    np.testing.assert_allclose(centre, (13.5, 13.5), atol=0.6)


def test_an_mnist_sized_image_is_taken_as_it_is():
    assert np.array_equal(
        mnist_digit(Image.fromarray(digit().astype(np.uint8))), digit()
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.copy_of_repo(tmp_path_factory.mktemp("predict_inputs"))


def test_an_empty_input_folder_says_where_to_put_files(project):
    done = project.kedro("run", "--pipeline=imdb_predict")
    assert done.returncode != 0
    output = " ".join((done.stdout + done.stderr).split())
    assert "There is nothing to predict in " in output
    assert "data/01_raw/predict/imdb: put one text per file (UTF-8" in output


def test_a_bad_file_fails_the_run_and_keeps_the_previous_predictions(project):
    folder = project.raw / "predict" / "boston_kfold"
    folder.mkdir(parents=True)
    (folder / "houses.csv").write_text("CRIM,ZN\n0.1,2\n")
    previous = project.path / "data/07_model_output/boston_kfold/predictions.csv"
    previous.parent.mkdir(parents=True)
    previous.write_text("input,prediction\nold.csv:1,20.0\n")
    done = project.kedro("run", "--pipeline=boston_kfold_predict")
    assert done.returncode != 0
    assert "Error: houses.csv: no column INDUS" in done.stdout + done.stderr
    assert previous.read_text() == "input,prediction\nold.csv:1,20.0\n"
    assert sorted(p.name for p in previous.parent.iterdir()) == ["predictions.csv"]
    (run,) = project.runs("boston_kfold_predict")
    assert run.info.status == "FAILED"


def test_without_a_registered_model_the_error_says_which_training_to_run(project):
    folder = project.raw / "predict" / "reuters"
    folder.mkdir(parents=True)
    (folder / "wire.txt").write_text("Oil prices rose 3 pct.")
    done = project.kedro("run", "--pipeline=reuters_predict")
    assert done.returncode != 0
    output = " ".join((done.stdout + done.stderr).split())
    assert "No model is registered as models:/reuters@champion" in output
    assert "train one first with `kedro run --pipeline=reuters`" in output
