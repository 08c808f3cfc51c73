"""What the prediction tests share: running ``<name>_predict``, serving a model, and
comparing answers by value."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
from PIL import Image

from tests.project import Project
from tests.servers import invocations, model_server


def registered_version(project: Project, run):
    """The model version ``run`` registered, with its tags and aliases."""
    client = project.mlflow()
    (found,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    return client.get_model_version(found.name, found.version)


def predict_folder(project: Project, name: str):
    """``data/01_raw/predict/<name>/``, emptied."""
    folder = project.raw / "predict" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def predict(project: Project, name: str, *args: str):
    """``kedro run --pipeline=<name>_predict``: its MLflow run and predictions.csv."""
    run = project.run_pipeline(f"{name}_predict", *args)
    table = pd.read_csv(project.path / f"data/07_model_output/{name}/predictions.csv")
    if "probability" in table:  # class names, even digits
        table["prediction"] = table["prediction"].astype(str)
    return run, table


def served(project: Project, model_uri: str, inputs) -> pd.DataFrame:
    """The answers of ``mlflow models serve -m <model_uri>`` over HTTP."""
    with model_server(project.path, project.tracking_uri, model_uri) as url:
        return pd.DataFrame(invocations(url, inputs))


def class_answers(outputs: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """The class and its probability, from sigmoid or softmax outputs."""
    if outputs.shape[1] == 1:
        outputs = np.hstack([1 - outputs, outputs])
    best = outputs.argmax(axis=1)
    return pd.DataFrame(
        {
            "prediction": [class_names[i] for i in best],
            "probability": outputs.max(axis=1),
        }
    )


def assert_answers(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = table.drop(columns="input", errors="ignore").reset_index(drop=True)
    expected = expected.drop(columns="input", errors="ignore").reset_index(drop=True)
    if "probability" in expected:  # class names, even digits
        got["prediction"] = got["prediction"].astype(str)
    pd.testing.assert_frame_equal(
        got[list(expected.columns)],
        expected,
        check_dtype=False,
        rtol=1e-4,
        atol=1e-6,
    )


def assert_prediction_run(project: Project, run, model: str, inputs: int) -> None:
    """A FINISHED prediction run naming the model version it used, its count of
    inputs and its predictions file."""
    assert run.info.status == "FINISHED"
    champion = project.mlflow().get_model_version_by_alias(model, "champion")
    assert run.data.tags["registered_model"] == model
    assert run.data.tags["model_uri"] == f"models:/{model}@champion"
    assert run.data.tags["model_version"] == str(champion.version)
    assert run.data.metrics["inputs"] == inputs
    artifacts = {a.path for a in project.mlflow().list_artifacts(run.info.run_id)}
    assert "predictions.csv" in artifacts


def write_texts(folder, texts: dict[str, str]) -> None:
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")


def words_of(sequence) -> str:
    """A raw token-id sequence back in its (synthetic) words: w<rank>."""
    return " ".join(f"w{rank}" for rank in sequence)


def write_digits(folder, images: np.ndarray) -> list[str]:
    """The images as 28 x 28 greyscale PNGs, and the last one also upscaled four
    times in colour (a tinted RGB PNG); the file names, in name order."""
    names = []
    for index, image in enumerate(images):
        names.append(f"digit_{index}.png")
        Image.fromarray(image.astype(np.uint8), "L").save(folder / names[-1])
    big = np.kron(images[-1], np.ones((4, 4))).astype(np.float64)
    tinted = np.stack([big, big * 0.8, big * 0.5], axis=-1).astype(np.uint8)
    Image.fromarray(tinted, "RGB").save(folder / "upscaled_colour.png")
    return [*names, "upscaled_colour.png"]
