"""The digit models (the convnet, the book's dense network, Zhou's scratch CNN)
predict a person's PNG files - greyscale, or an upscaled colour copy - through
``<name>_predict`` and ``mlflow models serve``, as the trained model does on the
images scaled as in training."""

from __future__ import annotations

import json

import numpy as np
import pytest

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
    write_digits,
)
from tests.synthetic import sha256, write_mnist_npz

QUICK = {
    "mnist": "mnist.validation_samples=-20,mnist.training.epochs=2,"
    "mnist.training.batch_size=16,mnist.final_epochs=2,mnist.final.batch_size=16",
    "mnist_dense": "mnist_dense.validation_samples=-20,mnist_dense.training.epochs=2,"
    "mnist_dense.training.batch_size=16,mnist_dense.final_epochs=2,"
    "mnist_dense.final.batch_size=16",
    "scratch_cnn": "scratch_cnn.train_samples=100,scratch_cnn.test_samples=40,"
    "scratch_cnn.training.epochs=2",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    project = Project.copy_of_repo(tmp_path_factory.mktemp("digits"))
    write_mnist_npz(project.raw / "mnist.npz", 120, 40)
    (project.raw / "SHA256SUMS").write_text(
        f"{sha256(project.raw / 'mnist.npz')}  mnist.npz\n"
    )
    return project


@pytest.fixture(scope="module")
def files(project) -> dict:
    return {"mnist": dict(np.load(project.raw / "mnist.npz"))}


@pytest.mark.parametrize(
    ("pipeline", "shape"),
    [("mnist", (28, 28, 1)), ("mnist_dense", (784,)), ("scratch_cnn", None)],
)
def test_digit_models_predict_png_files_greyscale_or_colour_of_any_size(
    project, files, pipeline, shape
):
    run = project.run_pipeline(pipeline, "--params", QUICK[pipeline])
    assert registered_version(project, run).aliases == ["champion"]
    # MNIST's digits lie inside an empty (black) frame of 4 pixels; so do these.
    images = np.zeros((3, 28, 28), np.uint8)
    images[:, 4:-4, 4:-4] = files["mnist"]["x_test"][:3, 4:-4, 4:-4]
    names = write_digits(predict_folder(project, pipeline), images)
    if shape is None:
        weights = json.loads(
            (project.path / "data/06_models/scratch_cnn/weights.json").read_text()
        )
        outputs = reference.zhou_probabilities(weights, images.astype(np.float64))
    else:
        scaled = (images / np.float32(255)).reshape((3, *shape))
        outputs = project.saved_model(pipeline).predict(scaled, verbose=0)
    expected = class_answers(outputs, [str(digit) for digit in range(10)])

    prediction_run, table = predict(project, pipeline)
    assert table["input"].tolist() == names
    assert_answers(table.iloc[:3], expected)
    assert_prediction_run(project, prediction_run, pipeline, inputs=4)
    assert_answers(
        served(project, f"models:/{pipeline}@champion", images.tolist()),
        table.iloc[:3],
    )
