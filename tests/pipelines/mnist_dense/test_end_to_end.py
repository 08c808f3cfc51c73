"""``kedro run --pipeline=mnist_dense``: the book's first network (2.1)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.project import Project, needs_real_data
from tests.synthetic import sha256, write_mnist_npz

TRAIN_IMAGES, TEST_IMAGES = 300, 40
QUICK = (
    "mnist_dense.validation_samples=-60,mnist_dense.training.epochs=3,"
    "mnist_dense.training.batch_size=32,mnist_dense.final_epochs=auto,"
    "mnist_dense.final.batch_size=1"
)
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("mnist_dense"))
    write_mnist_npz(project.raw / "mnist.npz", TRAIN_IMAGES, TEST_IMAGES)
    (project.raw / "SHA256SUMS").write_text(
        f"{sha256(project.raw / 'mnist.npz')}  mnist.npz\n"
    )
    return project


@pytest.fixture(scope="module")
def run(project):
    return project.run_pipeline("mnist_dense", "--params", QUICK)


def test_the_books_network_is_trained_tracked_and_registered(project, run):
    assert run.info.status == "FINISHED"
    client = project.mlflow()
    (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert version.name == "mnist_dense"
    assert float(version.tags["test_accuracy"]) == run.data.metrics["test_accuracy"]
    assert run.data.params["mnist_dense.model.layers"] == str(
        [
            {"type": "Dense", "units": 512, "activation": "relu"},
            {"type": "Dense", "units": 10, "activation": "softmax"},
        ]
    )
    # The chosen epoch, trained on every row one at a time (final.data: all).
    accuracy = project.history(run, "val_accuracy")
    chosen = accuracy.index(max(accuracy)) + 1
    model = project.saved_model("mnist_dense")
    assert len(project.history(run, "final_loss")) == chosen
    assert int(model.optimizer.iterations) == chosen * TRAIN_IMAGES
    # The images' file is the run's dataset input.
    (given,) = run.inputs.dataset_inputs
    assert given.dataset.name == "mnist_images"
    assert given.dataset.digest == sha256(project.raw / "mnist.npz")[:16]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "loss.png", "accuracy.png", "confusion_matrix.png"} <= (
        artifacts
    )


def test_the_model_reads_flattened_pixels_scaled_to_one(project, run):
    with np.load(project.raw / "mnist.npz") as raw:
        images, labels = raw["x_test"], raw["y_test"]
    # The book: reshape((10000, 28 * 28)), astype("float32") / 255.
    inputs = images.reshape(len(images), 784).astype("float32") / 255
    model = project.saved_model("mnist_dense")
    assert [layer.units for layer in model.layers] == [512, 10]
    assert model.input_shape == (None, 784)
    expected = model.predict(inputs, verbose=0)

    # The registered model takes the raw images and answers with the digit.
    served = project.logged_model(run).predict(images.astype(np.float64))
    assert served["prediction"].tolist() == [str(d) for d in expected.argmax(axis=1)]
    np.testing.assert_allclose(served["probability"], expected.max(axis=1), rtol=1e-5)
    accuracy = float(np.mean(expected.argmax(axis=1) == labels))
    assert run.data.metrics["test_accuracy"] == pytest.approx(accuracy)


@needs_real_data("mnist.npz")
def test_the_books_accuracy_on_the_real_mnist(tmp_path):
    run = Project.copy_of_repo(tmp_path).run_on_real_data("mnist_dense")
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test_accuracy"] >= 0.975  # the book: ~0.978
    (version,) = (
        Project(tmp_path)
        .mlflow()
        .search_model_versions(f"run_id = '{run.info.run_id}'")
    )
    assert version.name == "mnist_dense"
