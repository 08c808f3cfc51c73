"""Bad values in the data stop the run before any training, named: the file, the array
(and split), the row, the column or feature, and the value. The catalog's ``structure``
checks them where the file is read; the prepare nodes check what depends on the
parameters (``num_words``, the batch size)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import yaml

from keras_classics.core import nodes as stage_nodes
from keras_classics.core.vectorize import vectorize_splits
from keras_classics.datasets import KerasRawDataset
from keras_classics.datasets.errors import DatasetUnavailableError, DataValueError
from tests.pipelines.boston_kfold.test_end_to_end import QUICK
from tests.project import REPO, Project
from tests.synthetic import (
    idx_bytes,
    sha256,
    write_boston_npz,
    write_mnist_npz,
    write_sequences_npz,
)

RAW_CATALOG = yaml.safe_load((REPO / "conf" / "base" / "catalog_raw.yml").read_text())


def _raw_dataset(name: str, path, *, listed: bool = True) -> KerasRawDataset:
    """The catalog's entry ``name`` reading ``path`` (listed in a SHA256SUMS beside it,
    as a user's own copy is), with no other source to fall back on."""
    config = {
        key: value
        for key, value in RAW_CATALOG[name].items()
        if key not in ("type", "metadata", "mirror", "urls", "file_hash", "download")
    }
    if listed:
        (path.parent / "SHA256SUMS").write_text(f"{sha256(path)}  {path.name}\n")
    return KerasRawDataset(**config | {"filepath": str(path)})


def _edited_npz(path, arrays: dict[str, np.ndarray]) -> None:
    np.savez(path, **arrays)


def _with(arrays, name, row, *where, value):
    edited = {key: np.array(array, copy=True) for key, array in arrays.items()}
    if edited[name].dtype == object:
        sequence = list(edited[name][row])
        sequence[where[0]] = value
        edited[name][row] = sequence
    else:
        edited[name][(row, *where)] = value
    return edited


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("KERAS_CLASSICS_MIRROR", raising=False)


@pytest.mark.usefixtures("keras_home")
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            ("x", 17, 5, np.nan),
            "array 'x' (every sample, before the train/test split) row 17, feature RM "
            "(column 5) is nan, and every value must be a finite number",
        ),
        (("x", 3, 0, np.inf), "row 3, feature CRIM (column 0) is inf"),
        (("y", 40, -np.inf), "array 'y' (every sample, before the train/test split) "),
    ],
    ids=["nan-feature", "infinite-feature", "infinite-target"],
)
def test_a_non_finite_boston_value_is_named_with_row_and_feature(
    tmp_path, case, expected
):
    path = tmp_path / "boston_housing.npz"
    arrays = write_boston_npz(path)
    _edited_npz(path, _with(arrays, case[0], *case[1:-1], value=case[-1]))
    with pytest.raises(DataValueError) as raised:
        _raw_dataset("boston_housing_raw", path).load()
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "its checksum matched: sha256 listed in" in message


@pytest.mark.usefixtures("keras_home")
@pytest.mark.parametrize(
    ("name", "kind", "case", "expected"),
    [
        (
            "mnist_raw",
            "mnist",
            ("y_train", 7, 10),
            "array 'y_train' (train split) row 7 is 10, but labels are whole numbers "
            "from 0 to 9",
        ),
        (
            "reuters_raw",
            "reuters",
            ("y", 2, 46),
            "row 2 is 46, but labels are whole numbers from 0 to 45",
        ),
        (
            "imdb_raw",
            "imdb",
            ("y_test", 0, 2),
            "array 'y_test' (test split) row 0 is 2, but labels are whole numbers "
            "from 0 to 1",
        ),
        (
            "imdb_raw",
            "imdb",
            ("x_train", 5, 3, 0),
            "array 'x_train' (train split) row 5, position 3, is 0, but token ids are "
            "whole numbers from 1 to 88584",
        ),
        (
            "reuters_raw",
            "reuters",
            ("x", 9, 1, 99999),
            "row 9, position 1, is 99999, but token ids are whole numbers from 1 to "
            "30979",
        ),
    ],
    ids=[
        "mnist-label-10",
        "reuters-topic-46",
        "imdb-label-2",
        "imdb-token-0",
        "reuters-token-beyond-word-index",
    ],
)
def test_a_label_or_token_id_out_of_range_is_named(
    tmp_path, name, kind, case, expected
):
    path = tmp_path / f"{kind}.npz"
    if kind == "mnist":
        arrays = write_mnist_npz(path, 20, 10)
    else:
        arrays = write_sequences_npz(path, 20, 10, 50, kind=kind)
    _edited_npz(path, _with(arrays, case[0], *case[1:-1], value=case[-1]))
    with pytest.raises(DataValueError) as raised:
        _raw_dataset(name, path).load()
    assert expected in str(raised.value)


@pytest.mark.usefixtures("keras_home")
def test_an_empty_split_is_named(tmp_path):
    path = tmp_path / "mnist.npz"
    arrays = write_mnist_npz(path, 20, 10)
    arrays["x_test"], arrays["y_test"] = arrays["x_test"][:0], arrays["y_test"][:0]
    _edited_npz(path, arrays)
    with pytest.raises(DataValueError) as raised:
        _raw_dataset("mnist_raw", path).load()
    assert "array 'x_test' (test split) has no rows" in str(raised.value)


@pytest.mark.usefixtures("keras_home")
def test_idx_labels_out_of_range_are_named(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.array([1, 2, 11, 3], np.uint8))))
    with pytest.raises(DataValueError) as raised:
        _raw_dataset("mnist_idx.train_labels", path).load()
    assert (
        "array 'train-labels' (train split) row 2 is 11, but labels are whole "
        "numbers from 0 to 9"
    ) in str(raised.value)


@pytest.mark.usefixtures("keras_home")
@pytest.mark.parametrize("listed", [True, False], ids=["verified", "unverified"])
def test_images_of_the_wrong_dtype(tmp_path, listed):
    """A verified copy with float images stops the run; an unverified one is skipped
    like any broken leftover, and the error lists why."""
    path = tmp_path / "mnist.npz"
    arrays = write_mnist_npz(path, 20, 10)
    arrays["x_train"] = arrays["x_train"].astype("float32")
    _edited_npz(path, arrays)
    dataset = _raw_dataset("mnist_raw", path, listed=listed)
    if listed:
        with pytest.raises(DataValueError) as raised:
            dataset.load()
        assert "array 'x_train' has dtype float32, expected uint8" in str(raised.value)
        assert "no other copy is used in its place" in str(raised.value)
    else:
        with pytest.raises(DatasetUnavailableError) as raised:
            dataset.load()
        assert "dtype float32, expected uint8" in str(raised.value)


def test_token_ids_outside_num_words_are_named_at_prepare():
    train = np.empty(3, object)
    train[:] = [[1, 2, 3], [4, 5], [6, 12000, 7]]
    with pytest.raises(DataValueError) as raised:
        vectorize_splits(train, train[:2], 10000)
    assert str(raised.value).startswith(
        "array 'x_train' (train split) row 2, position 1, is 12000, but token ids "
        "(load.num_words is 10000) are whole numbers from 0 to 9999"
    )


def test_a_training_set_smaller_than_a_batch_is_refused_before_training():
    x = np.zeros((20, 2), "float32")
    assert len(stage_nodes.split_folds(x, 4, 15)) == 4  # 15 rows per fold: one batch
    with pytest.raises(DataValueError) as raised:
        stage_nodes.split_folds(x, 4, 16)
    assert str(raised.value) == (
        "The training set of each of the 4 folds has 15 rows, fewer than one batch "
        "(training.batch_size is 16): lower training.batch_size to at most 15, or "
        "train on more data."
    )
    with pytest.raises(DataValueError, match="has 5 rows, fewer than one batch"):
        stage_nodes.train_with_holdout(
            {}, x, np.zeros(20), 15, {"epochs": 1, "batch_size": 8}, 0
        )


def test_a_constant_feature_is_refused_before_standardising():
    from keras_classics.pipelines.boston_kfold.nodes import (  # noqa: PLC0415
        fit_standardiser,
    )
    from keras_classics.pipelines.boston_kfold.parameters import Columns  # noqa: PLC0415

    columns = Columns(features=["CRIM", "CHAS"], target="MEDV")
    train = pd.DataFrame({"CRIM": [0.1, 0.3], "CHAS": [0.0, 0.0], "MEDV": [20, 30]})
    with pytest.raises(DataValueError) as raised:
        fit_standardiser(train, columns)
    assert str(raised.value).startswith(
        "Feature CHAS has one value (0.0) in all 2 training rows"
    )
    train.loc[1, "CHAS"] = 1.0
    assert fit_standardiser(train, columns)["std"].tolist() == pytest.approx([0.1, 0.5])


# Through `kedro run`: one line, the MLflow run FAILED, no fold trained, no model.


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda arrays: _with(arrays, "x", 17, 5, value=np.nan),
            "row 17, feature RM (column 5) is nan",
        ),
        (
            lambda arrays: _with(arrays, "y", 2, value=np.inf),
            "array 'y' (every sample, before the train/test split) row 2 is inf",
        ),
    ],
    ids=["nan-feature", "infinite-target"],
)
@pytest.mark.parametrize(
    "runner", ["SequentialRunner", "keras_classics.runner.ParallelRunner"]
)
def test_kedro_run_on_a_bad_value_fails_before_training(
    tmp_path, edit, expected, runner
):
    project = Project.with_boston_data(tmp_path)
    npz = project.raw / "boston_housing.npz"
    arrays = dict(np.load(npz))
    _edited_npz(npz, edit(arrays))
    (project.raw / "SHA256SUMS").write_text(f"{sha256(npz)}  boston_housing.npz\n")

    done = project.kedro(
        "run",
        "--pipeline=boston_kfold",
        f"--runner={runner}",
        "--params",
        QUICK,
    )
    assert done.returncode != 0
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert line.startswith(f"Error: boston_housing_raw: {npz}: ")
    assert expected in line
    assert "Traceback" not in done.stderr
    assert "Exception in thread" not in done.stderr
    console = done.stdout + done.stderr
    assert "Fold 1/4" not in console
    assert not (project.path / "data" / "06_models" / "boston_kfold").exists()
    (run,) = project.runs("boston_kfold")
    assert run.info.status == "FAILED"
    assert project.mlflow().search_registered_models() == []
