"""``kedro run --pipeline=mnist`` on tiny synthetic images."""

from __future__ import annotations

import numpy as np
import pytest

from tests.project import Project
from tests.synthetic import digit_like_images, sha256, write_idx_gz, write_mnist_npz

QUICK = (
    "mnist.validation_samples=-20,mnist.training.epochs=2,mnist.training.batch_size=16,"
    "mnist.final_epochs=auto,mnist.final.batch_size=16,mnist.reports.grid_images=8,"
    "mnist.reports.mistakes=4"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("mnist"))
    write_mnist_npz(project.raw / "mnist.npz", 120, 40)
    (project.raw / "SHA256SUMS").write_text(
        f"{sha256(project.raw / 'mnist.npz')}  mnist.npz\n"
    )
    fashion = project.raw / "fashion-mnist"
    fashion.mkdir()
    for name, (images, labels) in (
        ("train", digit_like_images(120, 7)),
        ("t10k", digit_like_images(40, 8)),
    ):
        write_idx_gz(fashion / f"{name}-images-idx3-ubyte.gz", images)
        write_idx_gz(fashion / f"{name}-labels-idx1-ubyte.gz", labels)
    (fashion / "SHA256SUMS").write_text(
        "".join(
            f"{sha256(path)}  {path.name}\n" for path in sorted(fashion.glob("*.gz"))
        )
    )
    return project


@pytest.mark.parametrize("encoding", ["one_hot", "integer"])
def test_mnist_end_to_end(project, encoding):
    loss = {
        "one_hot": "categorical_crossentropy",
        "integer": "sparse_categorical_crossentropy",
    }
    params = (
        QUICK
        + f",mnist.label_encoding={encoding},mnist.model.compile.loss={loss[encoding]}"
    )
    run = project.run_pipeline("mnist", "--params", params)
    client = project.mlflow()
    assert run.info.status == "FINISHED"
    assert {"test_accuracy", "test_loss", "best_val_accuracy", "best_epoch"} <= set(
        run.data.metrics
    )
    assert len(client.get_metric_history(run.info.run_id, "val_accuracy")) == 2
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
        "test_images.png",
        "confident_mistakes.png",
        "metrics.json",
    } <= artifacts
    served = project.logged_model(run)
    assert served.metadata.get_input_schema().inputs[0].shape == (-1, 28, 28, 1)
    assert np.asarray(served.predict(np.zeros((2, 28, 28, 1), "float32"))).shape == (
        2,
        10,
    )


def test_fashion_mnist_from_its_idx_files(project):
    run = project.run_pipeline(
        "mnist", "--params", QUICK + ",mnist.dataset=fashion_mnist"
    )
    assert run.data.params["mnist.dataset"] == "fashion_mnist"
    assert run.info.status == "FINISHED"


def test_scratch_cnn_end_to_end(project):
    run = project.run_pipeline(
        "scratch_cnn",
        "--params",
        "scratch_cnn.train_samples=100,scratch_cnn.test_samples=40,scratch_cnn.training.epochs=2",
    )
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
    probabilities = np.asarray(served.predict(np.zeros((3, 28, 28))))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)
