"""``kedro run --pipeline=mnist`` on tiny synthetic images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.project import (
    REAL_DATASETS,
    Project,
    assert_console_for_people,
    needs_real_data,
)
from tests.synthetic import digit_like_images, sha256, write_idx_gz, write_mnist_npz

TRAIN_IMAGES, EPOCHS = 300, 4
QUICK = (
    f"mnist.validation_samples=-20,mnist.training.epochs={EPOCHS},"
    "mnist.training.batch_size=16,mnist.final_epochs=auto,mnist.final.batch_size=1,"
    "mnist.reports.grid_images=8,mnist.reports.mistakes=4"
)
# Other images than mnist.npz's (other seeds), in Fashion-MNIST's files.
FASHION = {
    "train": digit_like_images(TRAIN_IMAGES, 7),
    "t10k": digit_like_images(40, 8),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("mnist"))
    write_mnist_npz(project.raw / "mnist.npz", TRAIN_IMAGES, 40)
    (project.raw / "SHA256SUMS").write_text(
        f"{sha256(project.raw / 'mnist.npz')}  mnist.npz\n"
    )
    fashion = project.raw / "fashion-mnist"
    fashion.mkdir()
    for name, (images, labels) in FASHION.items():
        write_idx_gz(fashion / f"{name}-images-idx3-ubyte.gz", images)
        write_idx_gz(fashion / f"{name}-labels-idx1-ubyte.gz", labels)
    (fashion / "SHA256SUMS").write_text(
        "".join(
            f"{sha256(path)}  {path.name}\n" for path in sorted(fashion.glob("*.gz"))
        )
    )
    return project


@pytest.mark.parametrize(
    ("encoding", "final_data", "rows"),
    [("one_hot", "all", TRAIN_IMAGES), ("integer", "non_held_out", TRAIN_IMAGES - 20)],
)
def test_mnist_end_to_end(project, encoding, final_data, rows):
    loss = {
        "one_hot": "categorical_crossentropy",
        "integer": "sparse_categorical_crossentropy",
    }
    params = (
        QUICK
        + f",mnist.label_encoding={encoding},mnist.model.compile.loss={loss[encoding]}"
        + f",mnist.final.data={final_data}"
    )
    run = project.run_pipeline("mnist", "--params", params)
    assert_console_for_people(project.console, run, "test_accuracy")
    client = project.mlflow()
    assert run.info.status == "FINISHED"
    assert {"test_accuracy", "test_loss", "best_val_accuracy", "best_epoch"} <= set(
        run.data.metrics
    )
    # Learnable digits: far above chance (0.1) after a few epochs.
    assert run.data.metrics["test_accuracy"] >= 0.8
    val_accuracy = project.history(run, "val_accuracy")
    assert len(val_accuracy) == EPOCHS
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
        "test_images.png",
        "confident_mistakes.png",
        "metrics.json",
    } <= artifacts
    # auto: the first epoch of the best validation accuracy, on final.data's rows,
    # one at a time (batch size 1), so that the optimizer counts the rows seen.
    chosen = val_accuracy.index(max(val_accuracy)) + 1
    assert len(project.history(run, "final_loss")) == chosen
    assert int(project.saved_model("mnist").optimizer.iterations) == chosen * rows


def test_fashion_mnist_from_its_idx_files(project):
    project.set_parameters("mnist", dataset="fashion_mnist")  # shapes the graph
    try:
        run = project.run_pipeline("mnist", "--params", QUICK)
    finally:
        (project.path / "conf/local/parameters_mnist.yml").unlink()
    assert run.data.params["mnist.dataset"] == "fashion_mnist"
    assert run.info.status == "FINISHED"
    # Fashion-MNIST's own registered model; its input example is the first two raw
    # test images, and it answers with the class names.
    version = project.mlflow().get_model_version_by_alias("fashion_mnist", "champion")
    assert version.run_id == run.info.run_id
    model = project.logged_model(run)
    example = np.asarray(model.input_example)
    fashion_images, _ = FASHION["t10k"]
    np.testing.assert_array_equal(example, fashion_images[:2])
    names = set(model.predict(example)["prediction"])
    assert names <= {
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    }
    assert run.data.metrics["test_accuracy"] >= 0.8


@needs_real_data("mnist.npz")
def test_the_books_accuracy_on_the_real_mnist(tmp_path):
    project = Project.copy_of_repo(tmp_path)
    # The hold-out curve cut to one epoch, for CI's time: the final model (the book's
    # 5 epochs on all 60,000 digits, seeded on its own) and its figure are the same.
    run = project.run_on_real_data("mnist", "--params", "mnist.training.epochs=1")
    assert run.data.metrics["test_accuracy"] >= 0.99

    # The first 1,000 test digits written as PNG files, predicted by mnist_predict.
    with np.load(REAL_DATASETS / "mnist.npz") as raw:
        images, labels = raw["x_test"][:1000], raw["y_test"][:1000]
    folder = project.raw / "predict" / "mnist"
    folder.mkdir(parents=True)
    for index, image in enumerate(images):
        Image.fromarray(image, "L").save(folder / f"{index:04d}.png")
    project.run_on_real_data("mnist_predict")
    table = pd.read_csv(project.path / "data/07_model_output/mnist/predictions.csv")
    assert np.mean(table["prediction"].to_numpy() == labels) >= 0.98


def test_scratch_cnn_end_to_end(project):
    run = project.run_pipeline(
        "scratch_cnn",
        "--params",
        "scratch_cnn.train_samples=100,scratch_cnn.test_samples=40,scratch_cnn.training.epochs=2",
    )
    assert_console_for_people(project.console, run, "test_accuracy")
    client = project.mlflow()
    assert run.info.status == "FINISHED"
    assert {"test_accuracy", "test_loss", "training_seconds"} <= set(run.data.metrics)
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [
        1,
        2,
    ]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "weights.json",
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
    } <= artifacts
    served = project.logged_model(run)
    answers = served.predict(np.zeros((3, 28, 28)))  # three blank images: one answer
    assert answers["prediction"].nunique() == 1
    assert answers["prediction"][0] in {str(digit) for digit in range(10)}
    assert 0.1 <= answers["probability"][0] <= 1
