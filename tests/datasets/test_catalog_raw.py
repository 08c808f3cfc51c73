"""conf/base/catalog_raw.yml: one valid KerasRawDataset per raw Keras file."""

import ast
import gzip
import hashlib
import inspect
from pathlib import Path

import keras
import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from keras_classics.datasets import ImageSplitsDataset, KerasRawDataset
from tests.project import REAL_DATASETS, REPO, needs_real_data
from tests.synthetic import idx_bytes

OFFICIAL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
IDX_PARTS = ("train_images", "train_labels", "test_images", "test_labels")
ENTRIES = {
    "boston_housing_raw",
    "mnist_raw",
    "imdb_raw",
    "imdb_word_index",
    "reuters_raw",
    "reuters_word_index",
    *(f"mnist_idx.{part}" for part in IDX_PARTS),
    *(f"fashion_mnist_idx.{part}" for part in IDX_PARTS),
    "aclimdb_raw",
}
# Not from Keras: no Keras URL, no published hash (SHA256SUMS or structure verify it)
NOT_FROM_KERAS = {"aclimdb_raw"}
# Composite entries: the same files, whichever form is present.
IMAGE_SPLITS = {"mnist_images", "fashion_mnist_images"}
FASHION_FILES = tuple(
    f"fashion-mnist/{split}-{kind}-ubyte.gz"
    for split in ("train", "t10k")
    for kind in ("images-idx3", "labels-idx1")
)
# Keras' loaders of the files above.
KERAS_LOADERS = (
    keras.datasets.boston_housing.load_data,
    keras.datasets.mnist.load_data,
    keras.datasets.fashion_mnist.load_data,
    keras.datasets.imdb.load_data,
    keras.datasets.imdb.get_word_index,
    keras.datasets.reuters.load_data,
    keras.datasets.reuters.get_word_index,
)


@pytest.fixture(scope="module")
def catalog() -> DataCatalog:
    loader = OmegaConfigLoader(
        conf_source=str(REPO / "conf"),
        base_env="base",
        default_run_env="local",
        config_patterns={"raw_catalog": ["catalog_raw*"]},
    )
    config = loader["raw_catalog"]
    assert set(config) == ENTRIES | IMAGE_SPLITS
    return DataCatalog.from_config(config)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry_is_a_raw_dataset_of_the_raw_layer(catalog, name):
    dataset = catalog[name]
    description = dataset._describe()

    assert isinstance(dataset, KerasRawDataset)
    assert dataset.metadata == {"kedro-viz": {"layer": "raw"}}
    assert description["filepath"].startswith("data/01_raw/")
    assert description["mirror"] is None
    assert description["urls"][0].endswith("/" + Path(description["filepath"]).name)
    if name in NOT_FROM_KERAS:
        return
    assert description["file_hash"] or description["content_md5"]
    if not name.startswith("mnist_idx."):
        assert description["urls"][0].startswith(OFFICIAL)


@pytest.mark.parametrize("name", sorted(IMAGE_SPLITS))
def test_image_splits_reuse_the_raw_entries(catalog, name):
    dataset = catalog[name]
    assert isinstance(dataset, ImageSplitsDataset)
    assert dataset.metadata == {"kedro-viz": {"layer": "raw"}}
    prefix = name.removesuffix("_images")
    idx = dataset._describe()["idx"]
    for part in IDX_PARTS:
        assert idx[part] == catalog[f"{prefix}_idx.{part}"]._describe()
    if name == "mnist_images":
        assert dataset._describe()["npz"] == catalog["mnist_raw"]._describe()


@needs_real_data(
    "boston_housing.npz",
    "reuters_word_index.json",
    "fashion-mnist/t10k-labels-idx1-ubyte.gz",
)
@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("boston_housing_raw", 2),
        ("reuters_word_index", 30979),
        ("fashion_mnist_idx.test_labels", 10000),
    ],
)
def test_small_entries_load_from_the_shared_mirror(catalog, monkeypatch, name, size):
    monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(REAL_DATASETS))

    assert len(catalog.load(name)) == size


def keras_published_hashes() -> dict[str, str]:
    """``{file name: file_hash}`` of every ``get_file`` call with a hash in the
    installed Keras' dataset loaders, read from their source."""
    published = {}
    for loader in KERAS_LOADERS:
        tree = ast.parse(Path(inspect.getsourcefile(loader)).read_text())
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call) and ast.unparse(call.func) == "get_file"
            ):
                continue
            arguments = {keyword.arg: keyword.value for keyword in call.keywords}
            if "file_hash" in arguments:
                origin = arguments["origin"]  # f"{origin_folder}<file name>"
                name = (
                    origin.values[-1].value if isinstance(origin, ast.JoinedStr) else ""
                )
                published[name] = ast.literal_eval(arguments["file_hash"])
    return published


def test_every_hash_is_the_one_keras_publishes_for_its_file(catalog):
    published = keras_published_hashes()
    assert set(published) == {
        "boston_housing.npz",
        "mnist.npz",
        "imdb.npz",
        "imdb_word_index.json",
        "reuters.npz",
        "reuters_word_index.json",
    }
    for name in sorted(ENTRIES):
        description = catalog[name]._describe()
        file_name = Path(description["filepath"]).name
        # Keras publishes none for Fashion-MNIST, nor for MNIST's IDX files.
        assert description["file_hash"] == published.get(file_name), name


@needs_real_data("mnist.npz", *FASHION_FILES)
def test_idx_content_md5s_are_those_of_the_real_files(catalog):
    """MNIST's and Fashion-MNIST's published md5s of the uncompressed IDX files:
    MNIST's from its arrays (mnist.npz holds the same pixels), Fashion-MNIST's from its
    files."""
    with np.load(REAL_DATASETS / "mnist.npz") as mnist:
        contents = {
            f"mnist_idx.{split}_{kind}": idx_bytes(mnist[f"{key}_{split}"])
            for split in ("train", "test")
            for kind, key in (("images", "x"), ("labels", "y"))
        }
    for part in IDX_PARTS:
        name = f"fashion_mnist_idx.{part}"
        file_name = Path(catalog[name]._describe()["filepath"]).name
        gz = REAL_DATASETS / "fashion-mnist" / file_name
        contents[name] = gzip.decompress(gz.read_bytes())
    for name, content in sorted(contents.items()):
        expected = catalog[name]._describe()["content_md5"]
        assert hashlib.md5(content).hexdigest() == expected, name
