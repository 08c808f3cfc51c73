"""Errors raised by the raw Keras dataset type."""

from kedro.io import DatasetError


class DatasetUnavailableError(DatasetError):
    """No source (local file, Keras cache, mirror, download) yielded a valid file."""


class CorruptFileError(ValueError):
    """A file is damaged or does not hold what its format and structure promise."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ChecksumMismatchError(ValueError):
    """A file's hash matches none of the checksums it should match."""
