"""Isolation for dataset tests: no real Keras cache, no mirror, a scratch project."""

import pytest


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Run in an empty folder, with ``KERAS_HOME`` inside it and no mirror set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("KERAS_CLASSICS_MIRROR", raising=False)
