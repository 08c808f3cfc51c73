"""What every registered model predicts, by value.

Each pipeline runs once on small synthetic files. Its registered model is asked for
predictions as a user asks for them - loaded with ``mlflow.pyfunc.load_model``, and
served by ``mlflow models serve`` over HTTP - and the answers must equal what the
trained model saved in ``data/06_models`` gives on the same inputs prepared the way
training prepared them, which the tests compute themselves (``tests/reference.py``).
The registered models also reproduce their run's test metrics on the whole test set.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from tests import reference
from tests.project import Project
from tests.servers import invocations, model_server
from tests.synthetic import (
    sha256,
    write_aclimdb_tar,
    write_boston_npz,
    write_mnist_npz,
    write_sequences_npz,
    write_word_index,
)

BOSTON_FEATURES = [
    *("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE"),
    *("DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"),
]
NUM_WORDS, VOCAB = 80, 60
QUICK = {
    "boston_kfold": "boston_kfold.training.epochs=3,boston_kfold.final_epochs=2",
    "imdb": f"imdb.load.num_words={NUM_WORDS},imdb.validation_samples=30,"
    "imdb.training.epochs=3,imdb.training.batch_size=16,imdb.final_epochs=3,"
    "imdb.final.batch_size=16",
    "reuters": f"reuters.load.num_words={NUM_WORDS},reuters.validation_samples=30,"
    "reuters.training.epochs=3,reuters.training.batch_size=16,"
    "reuters.final_epochs=3,reuters.final.batch_size=16",
    "mnist": "mnist.validation_samples=-20,mnist.training.epochs=2,"
    "mnist.training.batch_size=16,mnist.final_epochs=2,mnist.final.batch_size=16",
    "scratch_cnn": "scratch_cnn.train_samples=100,scratch_cnn.test_samples=40,"
    "scratch_cnn.training.epochs=2",
}
RAW_TEXT_QUICK = (
    "imdb.validation_samples=30,imdb.training.epochs=3,imdb.training.batch_size=16,"
    "imdb.final_epochs=3,imdb.final.batch_size=16"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("serving"))
    (project.path / "conf/raw_text/catalog_raw.yml").write_text(
        "aclimdb_raw:\n"
        "  type: keras_classics.datasets.KerasRawDataset\n"
        "  filepath: data/01_raw/aclImdb_v1.tar.gz\n"
        "  structure: {reviews: {train: null, test: null}}\n"
    )
    return project


@pytest.fixture(scope="module")
def files(project) -> dict:
    """The synthetic raw files in the project (listed in a SHA256SUMS), and what
    they hold."""
    raw = project.raw
    written = {
        "imdb": write_sequences_npz(raw / "imdb.npz", 150, 60, VOCAB, kind="imdb"),
        "reuters": write_sequences_npz(
            raw / "reuters.npz", 160, 40, VOCAB, kind="reuters"
        ),
        "mnist": write_mnist_npz(raw / "mnist.npz", 120, 40),
        "reviews": write_aclimdb_tar(raw / "aclImdb_v1.tar.gz", 60),
    }
    write_boston_npz(raw / "boston_housing.npz")
    write_word_index(raw / "imdb_word_index.json", VOCAB)
    (raw / "SHA256SUMS").write_text(
        "".join(f"{sha256(path)}  {path.name}\n" for path in sorted(raw.iterdir()))
    )
    return written


def registered_version(project: Project, run):
    (version,) = project.mlflow().search_model_versions(f"run_id = '{run.info.run_id}'")
    return version


def assert_served_predictions(
    project: Project, run, inputs, expected, rtol: float = 1e-5
) -> None:
    """The run's model, loaded with pyfunc and served over HTTP, predicts
    ``expected`` for ``inputs``."""
    loaded = np.asarray(project.logged_model(run).predict(inputs))
    np.testing.assert_allclose(loaded, expected, rtol=rtol, atol=1e-6)
    version = registered_version(project, run)
    model_uri = f"models:/{version.name}/{version.version}"
    payload = inputs.tolist() if isinstance(inputs, np.ndarray) else inputs
    with model_server(project.path, project.tracking_uri, model_uri) as url:
        served = np.asarray(invocations(url, payload), dtype=float)
    np.testing.assert_allclose(served, expected, rtol=rtol, atol=1e-6)


def test_boston_model_takes_raw_features_and_standardises_them_as_training_did(
    project, files
):
    run = project.run_pipeline("boston_kfold", "--params", QUICK["boston_kfold"])
    version = registered_version(project, run)
    assert version.name == "boston_kfold"
    assert float(version.tags["test_mae"]) == pytest.approx(
        run.data.metrics["test_mae"]
    )
    assert run.info.run_name == "boston_kfold training.epochs=3,final_epochs=2"

    splits = project.path / "data/02_intermediate/boston_kfold"
    train, test = (pd.read_parquet(splits / f"{s}.parquet") for s in ("train", "test"))
    mean, std = train[BOSTON_FEATURES].mean(), train[BOSTON_FEATURES].std(ddof=0)
    readme_house = [0.1, 12.5, 7.9, 0, 0.52, 6.2, 65, 4.1, 5, 300, 18.5, 390, 12]
    raw = np.vstack([test[BOSTON_FEATURES].to_numpy()[:4], readme_house])
    standardised = ((raw - mean.to_numpy()) / std.to_numpy()).astype("float32")
    expected = project.saved_model("boston_kfold").predict(standardised, verbose=0)
    assert_served_predictions(project, run, raw.astype("float32"), expected, rtol=1e-4)

    prices = project.logged_model(run).predict(
        test[BOSTON_FEATURES].to_numpy("float32")
    )
    test_mae = np.mean(np.abs(np.asarray(prices).ravel() - test["MEDV"].to_numpy()))
    assert test_mae == pytest.approx(run.data.metrics["test_mae"], rel=1e-5)


def test_imdb_model_predicts_as_trained_on_the_multi_hot_reviews(project, files):
    run = project.run_pipeline("imdb", "--params", QUICK["imdb"])
    imdb = files["imdb"]
    vectors = reference.multi_hot(
        reference.keras_sequences(imdb["x_test"], NUM_WORDS), NUM_WORDS
    )
    expected = project.saved_model("imdb").predict(vectors[:4], verbose=0)
    assert_served_predictions(project, run, vectors[:4], expected)

    positive = np.asarray(project.logged_model(run).predict(vectors)).ravel() > 0.5
    accuracy = np.mean(positive == imdb["y_test"].astype(bool))
    assert accuracy == pytest.approx(run.data.metrics["test_accuracy"], abs=1e-6)


def test_imdb_raw_text_model_reads_reviews_as_its_words(project, files):
    run = project.run_pipeline("imdb", "--env=raw_text", "--params", RAW_TEXT_QUICK)
    assert registered_version(project, run).name == "imdb"
    texts = [
        "A wonderful film, great acting!",
        "Awful and BORING.<br /><br />A waste of a plot...",
        "Superb; moving - I loved it (really)",
        "words the model never saw",
    ]
    trained = project.saved_model("imdb")
    vectorizer, *dense = trained.layers
    vocabulary = vectorizer.get_vocabulary()
    words = keras.Sequential([keras.Input((len(vocabulary),)), *dense])
    expected = words.predict(reference.text_multi_hot(texts, vocabulary), verbose=0)
    assert_served_predictions(project, run, np.array(texts, dtype=object), expected)

    tests = {
        name: text
        for name, text in files["reviews"].items()
        if name.startswith("aclImdb/test/")
    }
    outputs = project.logged_model(run).predict(np.array(list(tests.values()), object))
    positive = np.asarray(outputs).ravel() > 0.5
    truth = np.array(["/pos/" in name for name in tests])
    accuracy = np.mean(positive == truth)
    assert accuracy == pytest.approx(run.data.metrics["test_accuracy"], abs=1e-6)


def test_reuters_model_predicts_as_trained_on_the_multi_hot_newswires(project, files):
    run = project.run_pipeline("reuters", "--params", QUICK["reuters"])
    reuters = files["reuters"]
    _, (x_test, y_test) = reference.reuters_split(reuters["x"], reuters["y"])
    vectors = reference.multi_hot(
        reference.keras_sequences(x_test, NUM_WORDS), NUM_WORDS
    )
    expected = project.saved_model("reuters").predict(vectors[:3], verbose=0)
    assert_served_predictions(project, run, vectors[:3], expected)

    topics = np.asarray(project.logged_model(run).predict(vectors)).argmax(axis=1)
    accuracy = np.mean(topics == y_test)
    assert accuracy == pytest.approx(run.data.metrics["test_accuracy"], abs=1e-6)


def test_mnist_model_predicts_as_trained_on_images_scaled_to_one(project, files):
    run = project.run_pipeline("mnist", "--params", QUICK["mnist"])
    mnist = files["mnist"]
    images = (mnist["x_test"] / np.float32(255))[..., np.newaxis]
    expected = project.saved_model("mnist").predict(images[:2], verbose=0)
    assert_served_predictions(project, run, images[:2], expected)

    digits = np.asarray(project.logged_model(run).predict(images)).argmax(axis=1)
    accuracy = np.mean(digits == mnist["y_test"])
    assert accuracy == pytest.approx(run.data.metrics["test_accuracy"], abs=1e-6)


def test_scratch_cnn_model_takes_raw_images_as_zhous_network_does(project, files):
    run = project.run_pipeline("scratch_cnn", "--params", QUICK["scratch_cnn"])
    weights = json.loads(
        (project.path / "data/06_models/scratch_cnn/weights.json").read_text()
    )
    mnist = files["mnist"]
    raw = mnist["x_test"][:40].astype(np.float64)
    expected = reference.zhou_probabilities(weights, raw[:3])
    assert_served_predictions(project, run, raw[:3], expected)

    digits = np.asarray(project.logged_model(run).predict(raw)).argmax(axis=1)
    accuracy = np.mean(digits == mnist["y_test"][:40])
    assert accuracy == pytest.approx(run.data.metrics["test_accuracy"], abs=1e-6)
