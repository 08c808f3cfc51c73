"""Predictions on a person's own files, by value, three ways that must agree.

Each pipeline trains once on small synthetic files. Then a person's inputs - a CSV,
text files (capitals, punctuation, HTML line breaks), PNG images (one an upscaled
colour copy) - go in ``data/01_raw/predict/<name>/``; ``kedro run
--pipeline=<name>_predict`` answers in ``predictions.csv``, and ``mlflow models serve
-m models:/<name>@champion`` must answer the same over HTTP. Both must equal what the
trained model saved in ``data/06_models`` gives on the inputs prepared as training
prepared them, which the tests compute themselves (``tests/reference.py``).
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import yaml

from tests import reference
from tests.project import Project
from tests.serving.predictions import (
    assert_answers,
    assert_prediction_run,
    class_answers,
    predict,
    predict_folder,
    registered_version,
    served,
    words_of,
    write_texts,
)
from tests.synthetic import (
    sha256,
    write_aclimdb_tar,
    write_boston_npz,
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
        "reviews": write_aclimdb_tar(raw / "aclImdb_v1.tar.gz", 60),
    }
    write_boston_npz(raw / "boston_housing.npz")
    write_word_index(raw / "imdb_word_index.json", VOCAB)
    write_word_index(raw / "reuters_word_index.json", VOCAB)
    (raw / "SHA256SUMS").write_text(
        "".join(f"{sha256(path)}  {path.name}\n" for path in sorted(raw.iterdir()))
    )
    return written


def test_boston_predicts_prices_for_a_csv_of_raw_features(project, files):
    run = project.run_pipeline("boston_kfold", "--params", QUICK["boston_kfold"])
    version = registered_version(project, run)
    assert version.name == "boston_kfold"
    assert version.aliases == ["champion"]  # the first version
    assert float(version.tags["test_mae"]) == pytest.approx(
        run.data.metrics["test_mae"]
    )

    splits = project.path / "data/02_intermediate/boston_kfold"
    train, test = (pd.read_parquet(splits / f"{s}.parquet") for s in ("train", "test"))
    mean, std = train[BOSTON_FEATURES].mean(), train[BOSTON_FEATURES].std(ddof=0)
    readme_house = [0.1, 12.5, 7.9, 0, 0.52, 6.2, 65, 4.1, 5, 300, 18.5, 390, 12]
    raw = np.vstack([test[BOSTON_FEATURES].to_numpy()[:4], readme_house])
    houses = pd.DataFrame(raw, columns=BOSTON_FEATURES)
    houses.insert(0, "street", [f"street {i}" for i in range(len(houses))])  # ignored
    houses.to_csv(predict_folder(project, "boston_kfold") / "houses.csv", index=False)
    standardised = ((raw - mean.to_numpy()) / std.to_numpy()).astype("float32")
    prices = project.saved_model("boston_kfold").predict(standardised, verbose=0)

    prediction_run, table = predict(project, "boston_kfold")
    assert list(table.columns) == ["input", "prediction"]
    assert table["input"].tolist() == [f"houses.csv:{row}" for row in range(1, 6)]
    assert_answers(table, pd.DataFrame({"prediction": prices.ravel()}))
    assert_prediction_run(project, prediction_run, "boston_kfold", inputs=5)
    assert_answers(
        served(project, "models:/boston_kfold@champion", raw.tolist()),
        table[["prediction"]],
    )
    local = "boston_kfold_predict.model_uri=data/06_models/boston_kfold/model.keras"
    _, from_file = predict(project, "boston_kfold", "--params", local)
    assert_answers(from_file, table[["prediction"]])

    # A worse second version does not take the alias.
    worse = project.run_pipeline(
        "boston_kfold",
        "--params",
        "boston_kfold.training.epochs=1,boston_kfold.final_epochs=1,"
        "boston_kfold.model.compile.optimizer.learning_rate=0.000001",
    )
    assert worse.data.metrics["test_mae"] > run.data.metrics["test_mae"]
    champion = project.mlflow().get_model_version_by_alias("boston_kfold", "champion")
    assert champion.version == version.version
    assert "boston_kfold champion stays version 1" in project.console


def test_imdb_predicts_the_sentiment_of_review_files_as_of_their_token_ids(
    project, files
):
    run = project.run_pipeline("imdb", "--params", QUICK["imdb"])
    assert registered_version(project, run).tags["imdb.input"] == "token_ids"
    imdb = files["imdb"]
    texts = {f"review_{i}.txt": words_of(imdb["x_test"][i]) for i in range(3)}
    texts["shouting.txt"] = "W3 and W5!<br /><br />w7, w9... (w11)\n"
    write_texts(predict_folder(project, "imdb"), texts)
    # Keras' tokenizer: "and" and "br" are not in the word index: oov_char (2).
    shouting = [1, 3 + 3, 2, 5 + 3, 2, 2, 7 + 3, 9 + 3, 11 + 3]
    # In file-name order: review_0..2, shouting.
    sequences = [*reference.keras_sequences(imdb["x_test"][:3], NUM_WORDS), shouting]
    outputs = project.saved_model("imdb").predict(
        reference.multi_hot(sequences, NUM_WORDS), verbose=0
    )
    expected = class_answers(outputs, ["negative", "positive"])

    prediction_run, table = predict(project, "imdb")
    assert table["input"].tolist() == sorted(texts)
    assert_answers(table, expected)
    assert_prediction_run(project, prediction_run, "imdb", inputs=4)
    ordered = [texts[name] for name in sorted(texts)]
    assert_answers(served(project, "models:/imdb@champion", ordered), table)


def test_imdb_raw_text_model_has_its_own_files_and_reads_reviews_as_its_words(
    project, files
):
    run = project.run_pipeline("imdb", "--env=raw_text", "--params", RAW_TEXT_QUICK)
    version = registered_version(project, run)
    assert (version.name, version.tags["imdb.input"]) == ("imdb", "raw_text")
    trained_file = project.path / "data/06_models/imdb/raw_text/model.keras"
    texts = {
        "a.txt": "A wonderful film, great acting!",
        "b.txt": "Awful and BORING.<br /><br />A waste of a plot...",
        "c.txt": "Superb; moving - I loved it (really)",
        "d.txt": "words the model never saw",
    }
    write_texts(predict_folder(project, "imdb"), texts)
    trained = keras.saving.load_model(trained_file)
    vectorizer, *dense = trained.layers
    vocabulary = vectorizer.get_vocabulary()
    words = keras.Sequential([keras.Input((len(vocabulary),)), *dense])
    outputs = words.predict(
        reference.text_multi_hot(list(texts.values()), vocabulary), verbose=0
    )
    expected = class_answers(outputs, ["negative", "positive"])

    model_uri = f"models:/imdb/{version.version}"
    _, table = predict(
        project, "imdb", "--params", f"imdb_predict.model_uri={model_uri}"
    )
    assert_answers(table, expected)
    assert_answers(served(project, model_uri, list(texts.values())), expected)
    local = f"imdb_predict.model_uri={trained_file}"
    _, from_file = predict(project, "imdb", "--env=raw_text", "--params", local)
    assert_answers(from_file, expected)


def test_reuters_predicts_topics_and_the_top_3_of_newswire_files(project, files):
    run = project.run_pipeline("reuters", "--params", QUICK["reuters"])
    assert registered_version(project, run).aliases == ["champion"]
    reuters = files["reuters"]
    _, (x_test, _) = reference.reuters_split(reuters["x"], reuters["y"])
    texts = {f"wire_{i}.txt": words_of(x_test[i]).upper() + "." for i in range(3)}
    write_texts(predict_folder(project, "reuters"), texts)
    vectors = reference.multi_hot(
        reference.keras_sequences(x_test[:3], NUM_WORDS), NUM_WORDS
    )
    outputs = project.saved_model("reuters").predict(vectors, verbose=0)
    conf = yaml.safe_load(
        (project.path / "conf/base/parameters_reuters.yml").read_text()
    )
    names = conf["reuters"]["class_names"]
    expected = class_answers(outputs, names)
    top = np.argsort(-outputs, axis=1)[:, :3]
    expected["top_3"] = [
        "; ".join(f"{names[i]}={row[i]:.4f}" for i in order)
        for row, order in zip(outputs, top, strict=True)
    ]

    prediction_run, table = predict(project, "reuters")
    assert_answers(table, expected)
    assert_prediction_run(project, prediction_run, "reuters", inputs=3)
    assert_answers(
        served(project, "models:/reuters@champion", list(texts.values())), table
    )
