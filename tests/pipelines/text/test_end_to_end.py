"""``kedro run --pipeline=imdb`` and ``--pipeline=reuters`` on tiny synthetic files."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import pandas as pd
import pytest
import yaml

from keras_classics.core.vectorize import MultiHotRows
from keras_classics.datasets import keras_semantics
from tests.project import (
    REAL_DATASETS,
    REPO,
    Project,
    assert_console_for_people,
    needs_real_data,
)
from tests.synthetic import (
    sha256,
    write_aclimdb_tar,
    write_sequences_npz,
    write_word_index,
)

VOCAB = 60
CLASSIFIER_METRICS = {
    "test_accuracy",
    "test_loss",
    "best_val_accuracy",
    "best_epoch",
    "training_seconds",
}
# Final models train with batches of one, so that their optimizer's step count is the
# number of rows they saw times their epochs.
QUICK = {
    "imdb": "imdb.load.num_words=80,imdb.validation_samples=30,imdb.training.epochs=3,"
    "imdb.training.batch_size=16,imdb.final_epochs=auto,imdb.final.batch_size=1,imdb.decode.reviews=4",
    "reuters": "reuters.load.num_words=80,reuters.validation_samples=30,reuters.training.epochs=3,"
    "reuters.training.batch_size=16,reuters.final_epochs=2,reuters.final.batch_size=1",
}
IMDB_TRAIN, REUTERS_SAMPLES, HELD_OUT = 150, 200, 30
# Training rows after Keras' split (Reuters: 80% of its samples).
TRAIN_ROWS = {"imdb": IMDB_TRAIN, "reuters": int(REUTERS_SAMPLES * 0.8)}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("text"))
    write_sequences_npz(project.raw / "imdb.npz", IMDB_TRAIN, 60, VOCAB, kind="imdb")
    write_word_index(project.raw / "imdb_word_index.json", VOCAB)
    write_word_index(project.raw / "reuters_word_index.json", VOCAB)
    write_sequences_npz(
        project.raw / "reuters.npz", REUTERS_SAMPLES - 40, 40, VOCAB, kind="reuters"
    )
    write_aclimdb_tar(project.raw / "aclImdb_v1.tar.gz", 60)
    (project.raw / "SHA256SUMS").write_text(
        "".join(
            f"{sha256(project.raw / name)}  {name}\n"
            for name in (
                "imdb.npz",
                "imdb_word_index.json",
                "reuters.npz",
                "reuters_word_index.json",
                "aclImdb_v1.tar.gz",
            )
        )
    )
    # The synthetic archive is small: accept any number of reviews.
    (project.path / "conf/raw_text/catalog_raw.yml").write_text(
        "aclimdb_raw:\n"
        "  type: keras_classics.datasets.KerasRawDataset\n"
        "  filepath: data/01_raw/aclImdb_v1.tar.gz\n"
        "  structure: {reviews: {train: null, test: null}}\n"
    )
    return project


def _check_classifier_run(project: Project, run, epochs: int) -> None:
    client = project.mlflow()
    assert run.info.status == "FINISHED"
    assert run.info.run_name.startswith(run.data.tags["pipeline"])
    assert set(run.data.metrics) >= CLASSIFIER_METRICS
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        steps = [m.step for m in client.get_metric_history(run.info.run_id, name)]
        assert sorted(steps) == list(range(1, epochs + 1))
    best = run.data.metrics["best_epoch"]
    val_accuracy = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert run.data.metrics["best_val_accuracy"] == max(m.value for m in val_accuracy)
    assert 1 <= best <= epochs
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
        "metrics.json",
    } <= artifacts
    with open(client.download_artifacts(run.info.run_id, "metrics.json")) as stream:
        assert set(json.load(stream)) >= CLASSIFIER_METRICS


def final_model_steps(project: Project, pipeline: str) -> int:
    """Optimizer steps of the saved final model: with batches of one, the rows it saw
    times its epochs."""
    return int(project.saved_model(pipeline).optimizer.iterations)


def test_imdb_end_to_end(project):
    run = project.run_pipeline("imdb", "--params", QUICK["imdb"])
    assert_console_for_people(project.console, run, "test_accuracy", "test_loss")
    _check_classifier_run(project, run, epochs=3)
    assert run.data.params["imdb.final_epochs"] == "auto"
    # auto: the first epoch of the highest validation accuracy; all training rows.
    val_accuracy = project.history(run, "val_accuracy")
    chosen = val_accuracy.index(max(val_accuracy)) + 1
    assert run.data.metrics["best_epoch"] == chosen
    assert len(project.history(run, "final_loss")) == chosen
    assert final_model_steps(project, "imdb") == chosen * TRAIN_ROWS["imdb"]
    decoded = (
        (project.path / "data/08_reporting/imdb/decoded_reviews.csv")
        .read_text()
        .splitlines()
    )
    assert decoded[0] == "review,positive_probability,predicted_label,true_label"
    assert len(decoded) == 5
    assert decoded[1].startswith("? w")  # start_char, then words of the index
    artifacts = {a.path for a in project.mlflow().list_artifacts(run.info.run_id)}
    assert "decoded_reviews.csv" in artifacts


def test_imdb_from_raw_texts_gives_a_model_that_reads_strings(project):
    params = (
        "imdb.validation_samples=30,imdb.training.epochs=3,imdb.training.batch_size=16,"
        "imdb.final_epochs=2,imdb.final.batch_size=16,imdb.decode.reviews=4"
    )
    run = project.run_pipeline("imdb", "--env=raw_text", "--params", params)
    _check_classifier_run(project, run, epochs=3)
    assert run.data.params["imdb.input"] == "raw_text"
    report = (project.path / "data/08_reporting/imdb/decoded_reviews.csv").read_text()
    assert (
        report.splitlines()[0]
        == "review,positive_probability,predicted_label,true_label"
    )


@pytest.mark.parametrize(
    ("encoding", "loss", "final_data", "rows"),
    [
        ("one_hot", "categorical_crossentropy", "all", TRAIN_ROWS["reuters"]),
        (
            "integer",
            "sparse_categorical_crossentropy",
            "non_held_out",
            TRAIN_ROWS["reuters"] - HELD_OUT,
        ),
    ],
)
def test_reuters_end_to_end_with_either_label_encoding_and_final_data(
    project, encoding, loss, final_data, rows
):
    params = (
        QUICK["reuters"]
        + f",reuters.label_encoding={encoding},reuters.model.compile.loss={loss}"
        + f",reuters.final.data={final_data}"
    )
    run = project.run_pipeline("reuters", "--params", params)
    assert_console_for_people(project.console, run, "test_accuracy")
    _check_classifier_run(project, run, epochs=3)
    assert final_model_steps(project, "reuters") == 2 * rows  # final_epochs=2
    assert 0 < run.data.metrics["random_baseline_accuracy"] < 1
    report = (
        (project.path / "data/08_reporting/reuters/class_report.csv")
        .read_text()
        .splitlines()
    )
    assert report[0] == "class_id,class,precision,recall,f1,support"
    assert len(report) == 47


def test_reuters_refuses_a_loss_that_does_not_fit_the_labels(project):
    done = project.kedro(
        "run",
        "--pipeline=reuters",
        "--params",
        QUICK["reuters"] + ",reuters.label_encoding=integer",
    )
    assert done.returncode != 0
    assert (
        "needs the loss 'sparse_categorical_crossentropy'" in done.stdout + done.stderr
    )


@needs_real_data("reuters.npz", "reuters_word_index.json")
def test_reuters_reaches_the_books_accuracy_on_the_real_data(tmp_path):
    project = Project.copy_of_repo(tmp_path)
    run = project.run_on_real_data("reuters")
    assert run.data.metrics["test_accuracy"] >= 0.775
    assert 0.15 <= run.data.metrics["random_baseline_accuracy"] <= 0.22

    # Every test newswire decoded to its words (the whole vocabulary) scores the same
    # topic as its token ids did.
    raw = dict(np.load(REAL_DATASETS / "reuters.npz", allow_pickle=True))
    word_index = json.loads((REAL_DATASETS / "reuters_word_index.json").read_text())
    _, (capped, _) = keras_semantics.reuters(raw, num_words=10000)
    _, (every_word, _) = keras_semantics.reuters(raw, num_words=10**9)
    folder = project.raw / "predict" / "reuters"
    folder.mkdir(parents=True)
    for index, sequence in enumerate(every_word):
        text = keras_semantics.decode(sequence[1:], word_index)
        (folder / f"{index:04d}.txt").write_text(text, encoding="utf-8")
    project.run_on_real_data("reuters_predict")
    table = pd.read_csv(project.path / "data/07_model_output/reuters/predictions.csv")
    vectors = MultiHotRows.from_sequences(capped, 10000).to_dense()
    topics = project.saved_model("reuters").predict(vectors, verbose=0).argmax(axis=1)
    names = yaml.safe_load((REPO / "conf/base/parameters_reuters.yml").read_text())
    expected = [names["reuters"]["class_names"][topic] for topic in topics]
    assert table["prediction"].tolist() == expected


@needs_real_data("imdb.npz", "aclImdb_v1.tar.gz")
@pytest.mark.parametrize(
    ("variant", "minimum"), [("token_ids", 0.875), ("raw_text", 0.87)]
)
def test_imdb_reaches_the_books_accuracy_on_the_real_data(tmp_path, variant, minimum):
    args = ["--env=raw_text"] if variant == "raw_text" else []
    project = Project.copy_of_repo(tmp_path)
    run = project.run_on_real_data("imdb", *args)
    assert run.data.params["imdb.input"] == variant
    assert run.data.metrics["test_accuracy"] >= minimum
    if variant != "token_ids":
        return
    # Stanford's first 250 positive and first 250 negative test reviews, as written.
    folder = project.raw / "predict" / "imdb"
    folder.mkdir(parents=True)
    truth = {}
    with tarfile.open(REAL_DATASETS / "aclImdb_v1.tar.gz") as archive:
        for label in ("pos", "neg"):
            prefix = f"aclImdb/test/{label}/"
            members = sorted(
                (m for m in archive if m.name.startswith(prefix)), key=lambda m: m.name
            )[:250]
            for member in members:
                name = f"{label}_{member.name.removeprefix(prefix)}"
                text = archive.extractfile(member).read().decode("utf-8")
                (folder / name).write_text(text, encoding="utf-8")
                truth[name] = "positive" if label == "pos" else "negative"
    project.run_on_real_data("imdb_predict")
    table = pd.read_csv(project.path / "data/07_model_output/imdb/predictions.csv")
    accuracy = np.mean(
        [
            truth[n] == p
            for n, p in zip(table["input"], table["prediction"], strict=True)
        ]
    )
    assert len(table) == 500
    assert accuracy >= 0.85


def test_raw_text_imdb_on_jax_is_refused_before_anything_runs(project):
    done = project.kedro(
        "run", "--pipeline=imdb", "--env=raw_text", env={"KERAS_BACKEND": "jax"}
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "input is 'raw_text', but the Keras backend is 'jax'" in output
    assert "KERAS_BACKEND=tensorflow" in output
    assert "Traceback" not in output
    assert "Running node" not in output
