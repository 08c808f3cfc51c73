"""conf/base/catalog_raw.yml: one valid KerasRawDataset per raw Keras file."""

from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from keras_classics.datasets import ImageSplitsDataset, KerasRawDataset
from tests.project import REAL_DATASETS, REPO, needs_real_data

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
