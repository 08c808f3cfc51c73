"""Runners for ``kedro run --runner=...``, e.g. ``keras_classics.runner.DaskRunner``."""

from .dask_runner import DaskDataset, DaskRunner

__all__ = ["DaskDataset", "DaskRunner"]
