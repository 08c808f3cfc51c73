"""What a raw file must contain, parsed from the ``structure`` catalog argument.

The format follows from the file's suffix, and ``structure`` takes one form per
format::

    # .npz: the arrays it must hold (null = any length). Arrays named
    # x<suffix> and y<suffix> (x/y, x_train/y_train...) must have equal lengths.
    # Their values: finite (no NaN or infinity; columns name them in errors), or
    # whole numbers in a range (labels; for an array of sequences, each token id).
    structure:
      arrays:
        x: {dtype: float64, shape: [null, 13], finite: true, columns: [CRIM, ...]}
        y: {dtype: int64, ndim: 1, range: [0, 45]}

    # .json: a non-empty mapping of words (str) to ranks (int)
    structure: {json: word_index}

    # .gz: gzipped uint8 IDX; images are (N, rows, cols), labels (N,) in a range
    structure:
      idx: {kind: images, dims: [null, 28, 28]}
      idx: {kind: labels, dims: [null], range: [0, 9]}

    # .tar.gz / .tgz: IMDB reviews (aclImdb); reviews per split (null = any)
    structure:
      reviews: {train: 25000, test: 25000}

    # no suffix: an extracted aclImdb folder; ``reviews`` is required
    structure:
      reviews: {train: null, test: null}

Without ``structure``, an npz may hold any arrays, a json must be a word index,
an IDX file may have any dimensions and an IMDB split any number of reviews.
Each IMDB split must hold at least one review of each label; each array listed, at
least one row. A wrong dtype or shape is a ``CorruptFileError``; a wrong value, a
``DataValueError`` naming the array, row, column and value
(``keras_classics.datasets.values``).
"""

import json
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Protocol

import numpy as np
from kedro.io import DatasetError

from keras_classics.datasets import values
from keras_classics.datasets.errors import CorruptFileError, DataValueError
from keras_classics.datasets.idx import load_idx_gz
from keras_classics.datasets.npz import load_npz
from keras_classics.datasets.reviews import (
    LABELS,
    SPLITS,
    load_reviews_folder,
    load_reviews_tar,
)

Shape = tuple[int | None, ...]


class FileFormat(Protocol):
    """Reads a file and checks that it holds the expected structure."""

    def read(self, path: Path) -> Any:
        """Return the file's content; raise ``CorruptFileError`` if it is wrong."""


def file_format(filepath: PurePath, structure: dict[str, Any] | None) -> FileFormat:
    """Build the reader for ``filepath``'s suffix from its ``structure`` config.

    Raises:
        DatasetError: The suffix is unsupported or ``structure`` is malformed.
    """
    structure = structure or {}
    suffix = filepath.suffix
    try:
        if filepath.name.endswith(_REVIEWS_ARCHIVE_SUFFIXES):
            _expect_keys(structure, {"reviews"})
            return _reviews_format(structure.get("reviews"), folder=False)
        if is_folder(filepath, structure):
            _expect_keys(structure, {"reviews"})
            return _reviews_format(structure.get("reviews"), folder=True)
        if suffix == ".npz":
            _expect_keys(structure, {"arrays"})
            return NpzFormat(_array_specs(structure.get("arrays") or {}))
        if suffix == ".json":
            _expect_keys(structure, {"json"})
            if structure.get("json", "word_index") != "word_index":
                raise ValueError("'json' supports only 'word_index'")
            return WordIndexFormat()
        if suffix == ".gz":
            _expect_keys(structure, {"idx"})
            return _idx_format(structure.get("idx") or {})
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"Invalid structure for '{filepath}': {exc}") from exc
    raise DatasetError(
        f"Unsupported file type '{suffix}' for '{filepath}': expected .npz, "
        ".json, .gz (gzipped IDX), .tar.gz/.tgz (IMDB reviews), or a folder of "
        "IMDB reviews (no suffix, with a 'reviews' structure)."
    )


def is_folder(filepath: PurePath, structure: dict[str, Any] | None) -> bool:
    """Whether ``filepath`` names a folder: no suffix and a ``reviews`` structure."""
    return (
        not filepath.suffix and isinstance(structure, dict) and "reviews" in structure
    )


@dataclass(frozen=True)
class ValueSpec:
    """What an array's values must be: finite, or whole numbers in ``range``."""

    finite: bool = False
    range: tuple[int | None, int | None] | None = None
    columns: tuple[str, ...] | None = None

    def check(self, array: np.ndarray, name: str) -> None:
        """Raise ``DataValueError`` (without the file) at the first bad value."""
        values.check_rows(array, name)
        if self.finite:
            values.check_finite(array, name, self.columns)
        if self.range is not None:
            what = "token ids" if array.dtype == object else "labels"
            values.check_range(array, name, *self.range, what=what)


@dataclass(frozen=True)
class ArraySpec:
    """Expected dtype and shape (``None`` = any length) of one npz array, and its
    values."""

    dtype: np.dtype | None
    shape: Shape | None
    values: ValueSpec = ValueSpec()

    def problem(self, array: np.ndarray) -> str | None:
        """Describe how ``array`` differs from this spec, or return ``None``."""
        if self.dtype is not None and array.dtype != self.dtype:
            return f"dtype {array.dtype}, expected {self.dtype}"
        if self.shape is not None and not _shape_matches(array.shape, self.shape):
            return f"shape {array.shape}, expected {_format_shape(self.shape)}"
        return None


@dataclass(frozen=True)
class NpzFormat:
    """An npz archive holding (at least) the arrays of ``arrays``."""

    arrays: dict[str, ArraySpec]

    def read(self, path: Path) -> dict[str, np.ndarray]:
        data = load_npz(path)
        for name, spec in self.arrays.items():
            if name not in data:
                raise CorruptFileError(path, f"array {name!r} is missing")
            if problem := spec.problem(data[name]):
                raise CorruptFileError(path, f"array {name!r} has {problem}")
        for x_name, y_name in _xy_pairs(self.arrays):
            if len(data[x_name]) != len(data[y_name]):
                raise CorruptFileError(
                    path,
                    f"{x_name!r} has {len(data[x_name])} rows but "
                    f"{y_name!r} has {len(data[y_name])}",
                )
        for name, spec in self.arrays.items():
            _check_values(spec.values, data[name], name, path)
        return data


class WordIndexFormat:
    """A JSON object mapping words to integer ranks."""

    def read(self, path: Path) -> dict[str, int]:
        try:
            word_index = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptFileError(path, f"invalid JSON: {exc}") from exc
        if not isinstance(word_index, dict) or not word_index:
            raise CorruptFileError(path, "not a non-empty JSON object")
        if not all(
            isinstance(rank, int) and not isinstance(rank, bool)
            for rank in word_index.values()
        ):
            raise CorruptFileError(path, "word ranks are not all integers")
        return word_index


@dataclass(frozen=True)
class IdxFormat:
    """A gzipped uint8 IDX file whose dimensions match ``dims``."""

    dims: Shape | None
    values: ValueSpec = ValueSpec()

    def read(self, path: Path) -> np.ndarray:
        array = load_idx_gz(path)
        if self.dims is not None and not _shape_matches(array.shape, self.dims):
            raise CorruptFileError(
                path, f"IDX shape {array.shape}, expected {_format_shape(self.dims)}"
            )
        _check_values(self.values, array, path.name.split("-idx")[0], path)
        return array


def _check_values(spec: ValueSpec, array: np.ndarray, name: str, path: Path) -> None:
    try:
        spec.check(array, name)
    except DataValueError as error:
        raise DataValueError(error.problem, path) from None


@dataclass(frozen=True)
class ReviewsFormat:
    """IMDB reviews, from an aclImdb ``.tar.gz`` or extracted ``folder``, with
    ``counts[split]`` reviews per split (``None`` = any)."""

    counts: dict[str, int | None]
    folder: bool = False

    def read(self, path: Path) -> dict[str, np.ndarray]:
        data = load_reviews_folder(path) if self.folder else load_reviews_tar(path)
        for split in SPLITS:
            labels = data[f"{split}_labels"]
            pos, neg = (np.count_nonzero(labels == LABELS[k]) for k in ("pos", "neg"))
            found = f"{len(labels)} reviews ({pos} pos, {neg} neg)"
            expected = self.counts.get(split)
            if expected is not None and len(labels) != expected:
                raise CorruptFileError(
                    path, f"split {split!r} has {found}, expected {expected}"
                )
            if not (pos and neg):
                raise CorruptFileError(
                    path, f"split {split!r} has {found}, needs both labels"
                )
        return data


_REVIEWS_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def _reviews_format(counts: dict[str, Any] | None, *, folder: bool) -> ReviewsFormat:
    counts = counts or {}
    _expect_keys(counts, set(SPLITS))
    for split, count in counts.items():
        if count is not None and (
            not isinstance(count, int) or isinstance(count, bool) or count < 2
        ):
            raise ValueError(
                f"reviews {split!r} must be null or an int >= 2 (both labels), "
                f"got {count!r}"
            )
    return ReviewsFormat(dict(counts), folder)


_IDX_KIND_NDIM = {"images": 3, "labels": 1}


def _idx_format(spec: dict[str, Any]) -> IdxFormat:
    _expect_keys(spec, {"kind", "dims", "range"})
    kind = spec.get("kind")
    if kind is not None and kind not in _IDX_KIND_NDIM:
        raise ValueError(f"idx kind {kind!r} is not 'images' or 'labels'")
    dims = _shape(spec["dims"]) if spec.get("dims") is not None else None
    value_spec = ValueSpec(range=_range(spec.get("range")))
    if kind is None:
        return IdxFormat(dims, value_spec)
    ndim = _IDX_KIND_NDIM[kind]
    if dims is not None and len(dims) != ndim:
        raise ValueError(f"idx {kind} have {ndim} dims, got {list(dims)}")
    return IdxFormat(dims or (None,) * ndim, value_spec)


def _array_specs(arrays: dict[str, dict[str, Any]]) -> dict[str, ArraySpec]:
    if not isinstance(arrays, dict):
        raise TypeError(f"'arrays' must map array names to specs, got {arrays!r}")
    return {name: _array_spec(name, spec or {}) for name, spec in arrays.items()}


def _array_spec(name: str, spec: dict[str, Any]) -> ArraySpec:
    _expect_keys(spec, {"dtype", "ndim", "shape", "finite", "range", "columns"})
    dtype = np.dtype(spec["dtype"]) if spec.get("dtype") is not None else None
    shape = _shape(spec["shape"]) if spec.get("shape") is not None else None
    ndim = spec.get("ndim")
    if ndim is not None and shape is not None and ndim != len(shape):
        raise ValueError(f"array {name!r}: ndim {ndim} contradicts shape {shape}")
    if ndim is not None and shape is None:
        shape = (None,) * ndim
    columns = spec.get("columns")
    if columns is not None and (
        shape is None or len(shape) != 2 or len(columns) != shape[1]
    ):
        raise ValueError(f"array {name!r}: columns need a shape [null, {len(columns)}]")
    value_spec = ValueSpec(
        finite=bool(spec.get("finite", False)),
        range=_range(spec.get("range")),
        columns=tuple(columns) if columns else None,
    )
    return ArraySpec(dtype, shape, value_spec)


def _range(bounds: list[int | None] | None) -> tuple[int | None, int | None] | None:
    if bounds is None:
        return None
    if not (
        isinstance(bounds, list)
        and len(bounds) == 2
        and all(
            b is None or (isinstance(b, int) and not isinstance(b, bool))
            for b in bounds
        )
    ):
        raise ValueError(f"range must be [low, high] (whole numbers or null): {bounds}")
    return bounds[0], bounds[1]


def _shape(dims: list[int | None]) -> Shape:
    if not isinstance(dims, list) or not all(
        dim is None or (isinstance(dim, int) and dim >= 0) for dim in dims
    ):
        raise ValueError(f"dimensions must be a list of nulls and ints >= 0: {dims}")
    return tuple(dims)


def _shape_matches(actual: tuple[int, ...], expected: Shape) -> bool:
    return len(actual) == len(expected) and all(
        want is None or have == want
        for have, want in zip(actual, expected, strict=True)
    )


def _format_shape(shape: Shape) -> str:
    return "(" + ", ".join("N" if dim is None else str(dim) for dim in shape) + ")"


def _xy_pairs(arrays: dict[str, ArraySpec]) -> list[tuple[str, str]]:
    return [
        (name, "y" + name[1:])
        for name in arrays
        if name.startswith("x") and "y" + name[1:] in arrays
    ]


def _expect_keys(config: dict[str, Any], allowed: set[str]) -> None:
    if not isinstance(config, dict):
        raise TypeError(f"expected a mapping, got {config!r}")
    if unknown := set(config) - allowed:
        raise ValueError(f"unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
