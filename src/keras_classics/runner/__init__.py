"""Runners for ``kedro run --runner=...``: ``keras_classics.runner.ParallelRunner``,
``keras_classics.runner.DaskRunner``."""

from .dask_runner import DaskDataset, DaskRunner
from .parallel_runner import ParallelRunner

__all__ = ["DaskDataset", "DaskRunner", "ParallelRunner"]
