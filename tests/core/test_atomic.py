"""``AtomicDataset`` with real kedro-datasets types, in a temporary folder."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from keras_classics.core.atomic import AtomicDataset, partial_path
from keras_classics.core.tracking import MlflowArtifactDataset

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FRAME = pd.DataFrame({"fold": [0, 1, 2], "val_mae": [2.5, 2.25, 2.75]})


def _partials(folder):
    return sorted(path.name for path in folder.rglob("*.partial*"))


def _figure():
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    return figure


@pytest.mark.parametrize(
    ("config", "data"),
    [
        ({"type": "pandas.CSVDataset", "save_args": {"index": False}}, FRAME),
        ({"type": "pandas.ParquetDataset"}, FRAME),
        ({"type": "json.JSONDataset"}, {"mae": [2.5, 2.25], "k": 4}),
    ],
    ids=["csv", "parquet", "json"],
)
def test_round_trip_into_a_new_folder(tmp_path, config, data):
    suffix = {"pandas.CSVDataset": ".csv", "pandas.ParquetDataset": ".parquet"}
    target = tmp_path / "new" / f"out{suffix.get(config['type'], '.json')}"
    dataset = AtomicDataset({**config, "filepath": str(target)})
    assert not dataset.exists()

    dataset.save(data)

    assert dataset.exists()
    loaded = dataset.load()
    if isinstance(data, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, data)
    else:
        assert loaded == data
    assert _partials(tmp_path) == []


def test_matplotlib_figure_is_saved_as_a_whole_png(tmp_path):
    target = tmp_path / "plot.png"
    dataset = AtomicDataset(
        {"type": "matplotlib.MatplotlibDataset", "filepath": str(target)}
    )

    dataset.save(_figure())

    assert target.read_bytes().startswith(b"\x89PNG")
    assert target.read_bytes().endswith(b"IEND\xaeB`\x82")
    assert _partials(tmp_path) == []


def test_keras_model_round_trip(tmp_path):
    import keras  # noqa: PLC0415  (slow import, this test only)

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    target = tmp_path / "models" / "model.keras"
    dataset = AtomicDataset(
        {
            "type": "keras_classics.core.keras_model.KerasModelDataset",
            "filepath": str(target),
            "load_args": {"safe_mode": True},
        }
    )

    dataset.save(model)

    loaded = dataset.load()
    for saved, read in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, read)
    assert _partials(tmp_path) == []
    assert not hasattr(dataset, "preview")  # the wrapped type has none


class _FailsMidway(dict):
    """A dict ``json.dump`` fails on once it has written the bytes before it; it
    records the partial files that existed at that moment."""

    def __init__(self, folder, error: BaseException):
        super().__init__(key="value")
        self.folder, self.error, self.seen = folder, error, []

    def items(self):
        self.seen = _partials(self.folder)
        raise self.error


@pytest.mark.parametrize(
    ("error", "raised"),
    [(TypeError("not serialisable"), DatasetError), (KeyboardInterrupt(), None)],
    ids=["exception", "keyboard-interrupt"],
)
def test_save_failing_midway_keeps_the_previous_file_and_no_partial(
    tmp_path, error, raised
):
    target = tmp_path / "metrics.json"
    dataset = AtomicDataset({"type": "json.JSONDataset", "filepath": str(target)})
    dataset.save({"mae": 2.5})
    previous = target.read_bytes()
    failing = _FailsMidway(tmp_path, error)

    with pytest.raises(raised or type(error)):
        dataset.save({"history": list(range(1000)), "last": failing})

    assert failing.seen == [partial_path(target, os.getpid()).name]
    assert target.read_bytes() == previous
    assert _partials(tmp_path) == []


def test_figure_failing_to_render_keeps_the_previous_png(tmp_path):
    target = tmp_path / "plot.png"
    dataset = AtomicDataset(
        {"type": "matplotlib.MatplotlibDataset", "filepath": str(target)}
    )
    dataset.save(_figure())
    previous = target.read_bytes()
    broken = _figure()
    broken.axes[0].set_title(r"$\frac$")  # mathtext fails when drawn

    with pytest.raises(DatasetError):
        dataset.save(broken)

    assert target.read_bytes() == previous
    assert _partials(tmp_path) == []


def test_next_save_removes_partials_of_dead_processes_only(tmp_path):
    target = tmp_path / "scores.csv"
    finished = subprocess.Popen([sys.executable, "-c", ""])
    finished.wait()  # reaped: its PID names no process
    dead = partial_path(target, finished.pid)
    live = partial_path(target, os.getppid())  # pytest's parent: alive
    other_target = partial_path(tmp_path / "scores.old.csv", finished.pid)
    for path in (dead, live, other_target):
        path.write_text("fold,val")
    dataset = AtomicDataset({"type": "pandas.CSVDataset", "filepath": str(target)})

    dataset.save(FRAME)

    assert not dead.exists()
    assert live.exists() and other_target.exists()
    pd.testing.assert_frame_equal(dataset.load(), FRAME)


@pytest.mark.parametrize("wrapper", [AtomicDataset, MlflowArtifactDataset])
def test_preview_is_the_wrapped_method_for_kedro_viz(tmp_path, wrapper):
    target = tmp_path / "scores.csv"
    FRAME.to_csv(target, index=False)
    dataset = wrapper({"type": "pandas.CSVDataset", "filepath": str(target)})

    annotation = inspect.signature(dataset.preview).return_annotation
    assert getattr(annotation, "__name__", str(annotation)) == "TablePreview"
    assert dataset.preview(nrows=2)["data"] == [[0, 2.5], [1, 2.25]]


def test_describe_and_metadata_pass_through(tmp_path):
    target = tmp_path / "a.json"
    metadata = {"kedro-viz": {"layer": "reporting"}}
    dataset = AtomicDataset(
        {"type": "json.JSONDataset", "filepath": str(target)}, metadata=metadata
    )

    assert dataset.metadata == metadata
    assert str(dataset._describe()["filepath"]) == str(target)
    assert f"filepath=PurePosixPath('{target}')" in repr(dataset)


@pytest.mark.parametrize(
    "config",
    [
        {"type": "pandas.CSVDataset", "filepath": "s3://bucket/scores.csv"},
        {"type": "pandas.CSVDataset", "filepath": "scores.csv", "versioned": True},
    ],
    ids=["remote", "versioned"],
)
def test_only_unversioned_local_files_are_accepted(config):
    with pytest.raises(DatasetError, match="unversioned local files only"):
        AtomicDataset(config)
