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


class DataValueError(DatasetError):
    """A value training can't use (NaN, a label out of range, an empty split...), or a
    verified file that does not hold what it should: named, with the row and value.

    Not a reason to try another source: the file was chosen (its checksum matched).
    """

    def __init__(self, problem: str, path: object = None) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem

    def __reduce__(self):
        """Rebuilt from its arguments: it crosses processes (Parallel, Dask runners)."""
        return type(self), (self.problem, self.path)
