import numpy as np
import pytest

from keras_classics.datasets import DatasetUnavailableError, ImageSplitsDataset
from tests.synthetic import digit_like_images, sha256, write_idx_gz, write_mnist_npz

PARTS = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("KERAS_CLASSICS_MIRROR", raising=False)


def _dataset(folder, urls=()):
    return ImageSplitsDataset(
        npz={
            "filepath": str(folder / "mnist.npz"),
            "urls": [f"{u}/mnist.npz" for u in urls],
        },
        idx={part: {"filepath": str(folder / name)} for part, name in PARTS.items()},
    )


def _write_idx(folder, seed=5):
    x_train, y_train = digit_like_images(12, seed)
    x_test, y_test = digit_like_images(6, seed + 1)
    for part, array in zip(PARTS, (x_train, y_train, x_test, y_test), strict=True):
        write_idx_gz(folder / PARTS[part], array)
    return x_train, y_train


def test_the_npz_is_used_when_present(tmp_path):
    arrays = write_mnist_npz(tmp_path / "mnist.npz", 10, 4)
    (tmp_path / "SHA256SUMS").write_text(
        f"{sha256(tmp_path / 'mnist.npz')}  mnist.npz\n"
    )
    _write_idx(tmp_path)
    splits = _dataset(tmp_path).load()
    np.testing.assert_array_equal(splits["x_train"], arrays["x_train"])
    assert splits["x_test"].shape == (4, 28, 28)


def test_the_idx_files_are_used_when_only_they_are_present(tmp_path, http_closed_port):
    x_train, y_train = _write_idx(tmp_path)
    dataset = _dataset(tmp_path, urls=[f"http://127.0.0.1:{http_closed_port}"])
    splits = dataset.load()
    np.testing.assert_array_equal(splits["x_train"], x_train)
    np.testing.assert_array_equal(splits["y_train"], y_train)
    assert not (tmp_path / "mnist.npz").exists()


def test_nothing_present_lists_every_form(tmp_path, http_closed_port):
    dataset = _dataset(tmp_path, urls=[f"http://127.0.0.1:{http_closed_port}"])
    with pytest.raises(DatasetUnavailableError) as error:
        dataset.load()
    message = str(error.value)
    assert "[npz]" in message and "[idx]" in message
    assert "mnist.npz" in message and "train-images-idx3-ubyte.gz" in message
