"""Checks of the values in a dataset, each naming the first bad one: its array (and
split), row, column or position, and the value.

Used where the data is read (``keras_classics.datasets.structure``: finite features,
labels and token ids in range, no empty array) and where it is prepared
(``keras_classics.core``: token ids within ``num_words``, enough rows for a batch).
Vectorised: a check costs a pass of NumPy over the array, not a Python loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from keras_classics.datasets.errors import DataValueError


def split_of(array: str) -> str:
    """``train split`` for ``x_train`` (or IDX's ``t10k-labels``: ``test split``);
    for ``x``, every sample before the split."""
    words = set(re.split("[_-]", array))
    if "train" in words:
        return "train split"
    if words & {"test", "t10k"}:
        return "test split"
    return "every sample, before the train/test split"


def check_rows(array: np.ndarray, name: str) -> None:
    """At least one row: an empty split can't be trained or evaluated on."""
    if len(array) == 0:
        raise DataValueError(f"array {name!r} ({split_of(name)}) has no rows")


def check_finite(
    array: np.ndarray, name: str, columns: Sequence[str] | None = None
) -> None:
    """Every value a finite number (no NaN, no infinity)."""
    if array.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataValueError(
            f"{_cell(name, where, columns)} is {_shown(array[where])}, and every value "
            f"must be a finite number ({int(bad.sum())} value(s) are not)"
        )


def check_range(
    array: np.ndarray, name: str, low: int | None, high: int | None, what: str
) -> None:
    """Every value (every token id of an array of sequences) a whole number in
    ``[low, high]`` (``None``: unbounded)."""
    if array.dtype == object:
        _check_sequences(array, name, low, high, what)
        return
    if array.dtype.kind not in "iuf":
        raise DataValueError(
            f"array {name!r} ({split_of(name)}) holds {array.dtype} values, but "
            f"{what} are whole numbers"
        )
    bad = _outside(array, low, high)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataValueError(
            f"{_cell(name, where)} is {_shown(array[where])}, but {what} are whole "
            f"numbers {_interval(low, high)} ({int(bad.sum())} value(s) are not)"
        )


def check_batch(rows: int, batch_size: int, split: str, parameter: str) -> None:
    """A training set of at least one batch."""
    if rows < batch_size:
        raise DataValueError(
            f"The {split} has {rows} rows, fewer than one batch ({parameter} is "
            f"{batch_size}): lower {parameter} to at most {rows}, or train on more "
            "data."
        )


def _check_sequences(
    array: np.ndarray, name: str, low: int | None, high: int | None, what: str
) -> None:
    lengths = np.fromiter((len(row) for row in array), np.int64, len(array))
    flat = np.concatenate([np.asarray(row) for row in array]) if len(array) else []
    flat = np.asarray(flat)
    if flat.size and flat.dtype.kind not in "iu":
        row = next(
            i for i, seq in enumerate(array) if np.asarray(seq).dtype.kind not in "iu"
        )
        raise DataValueError(
            f"array {name!r} ({split_of(name)}) row {row} holds "
            f"{np.asarray(array[row]).dtype} values, but {what} are whole numbers"
        )
    bad = _outside(flat, low, high)
    if bad.any():
        first = int(np.argmax(bad))
        row = int(np.searchsorted(np.cumsum(lengths), first, side="right"))
        position = first - int(lengths[:row].sum())
        raise DataValueError(
            f"array {name!r} ({split_of(name)}) row {row}, position {position}, is "
            f"{_shown(flat[first])}, but {what} are whole numbers {_interval(low, high)} "
            f"({int(bad.sum())} value(s) are not)"
        )


def _outside(array: np.ndarray, low: int | None, high: int | None) -> np.ndarray:
    bad = np.zeros(array.shape, bool)
    if array.dtype.kind == "f":
        bad |= ~np.isfinite(array) | (array != np.round(array))
    if low is not None:
        bad |= array < low
    if high is not None:
        bad |= array > high
    return bad


def _shown(value) -> str:
    """``nan``, ``46``: a NumPy scalar as the Python number it holds."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _interval(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"from {low} to {high}"
    return f">= {low}" if low is not None else f"<= {high}"


def _cell(
    name: str, where: tuple[int, ...], columns: Sequence[str] | None = None
) -> str:
    """``array 'x' (...) row 17, feature RM (column 5)``."""
    text = f"array {name!r} ({split_of(name)}) row {where[0]}"
    if len(where) == 2 and columns:
        return f"{text}, feature {columns[where[1]]} (column {where[1]})"
    if len(where) > 1:
        return f"{text}, at {list(where[1:])}"
    return text
