"""Kedro dataset types for the raw files behind ``keras.datasets``."""

from keras_classics.datasets.errors import DatasetUnavailableError
from keras_classics.datasets.image_splits import ImageSplitsDataset
from keras_classics.datasets.raw_dataset import KerasRawDataset

__all__ = ["DatasetUnavailableError", "ImageSplitsDataset", "KerasRawDataset"]
