"""Multi-hot text vectors without the dense matrix.

The book's ``vectorize_sequences`` builds a dense float64 (samples x num_words)
matrix: 25,000 x 10,000 x 8 bytes = 2 GB per IMDB split, almost all zeros.
``MultiHotRows`` keeps each row's distinct token ids instead (CSR: int32 ids and int64
row offsets, a few MB). The training loop expands one batch at a time into the book's
multi-hot vectors inside its compiled epoch (512 x 10,000 float32 = 20 MB; with each
backend's own ops: ``loop_tensorflow.multi_hot``, ``loop_jax.multi_hot``), so the model
is the book's plain Dense stack and computes exactly what it computes on the full
matrix.

Why dense batches rather than a sparse-aware first layer: Keras runs a Dense layer on
a ``tf.SparseTensor`` as an embedding-bag (``tf.nn.embedding_lookup_sparse``), which
needs ~1/60 of the multiply-adds on IMDB but more, slower ops; on this project's
2-core CPU, 20 epochs of the book's models took 6.4 s (IMDB) and 4.7 s (Reuters) on
sparse batches against 5.0 s and 4.3 s on dense batches built from the compact rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from keras_classics.datasets import values

# What a compiled function needs to know of a multi-hot input: (width, max_length) of
# ``MultiHotRows``; None for an array.
RowsSpec = tuple[int, int] | None


@dataclass(frozen=True)
class MultiHotRows:
    """Rows of distinct token ids (sorted), as multi-hot vectors of ``width``."""

    ids: np.ndarray  # int32: every row's distinct ids, row after row
    row_splits: np.ndarray  # int64: row i is ids[row_splits[i]:row_splits[i + 1]]
    width: int

    @classmethod
    def from_sequences(
        cls, sequences: Iterable[Sequence[int]], width: int
    ) -> MultiHotRows:
        """Rows from token-id sequences; ids must lie in ``[0, width)``."""
        rows = [
            np.unique(np.asarray(sequence, dtype=np.int64)) for sequence in sequences
        ]
        ids = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= width):
            raise ValueError(
                f"token ids must lie in [0, {width}); found {ids.min()}..{ids.max()}. "
                "Load the data with num_words equal to the model's input width."
            )
        splits = np.zeros(len(rows) + 1, np.int64)
        np.cumsum([len(row) for row in rows], out=splits[1:])
        return cls(ids.astype(np.int32), splits, width)

    def __len__(self) -> int:
        return len(self.row_splits) - 1

    def take(self, indices: np.ndarray | slice) -> MultiHotRows:
        """The selected rows, in the given order."""
        rows = np.arange(len(self))[indices]
        starts, stops = self.row_splits[rows], self.row_splits[rows + 1]
        lengths = stops - starts
        splits = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lengths, out=splits[1:])
        positions = np.repeat(starts - splits[:-1], lengths) + np.arange(splits[-1])
        return MultiHotRows(self.ids[positions], splits, self.width)

    def to_dense(self, dtype: str = "float32") -> np.ndarray:
        """The book's dense multi-hot matrix (for small selections only)."""
        dense = np.zeros((len(self), self.width), dtype=dtype)
        rows = np.repeat(np.arange(len(self)), np.diff(self.row_splits))
        dense[rows, self.ids] = 1
        return dense

    @property
    def max_length(self) -> int:
        """Ids in the longest row, rounded up to a power of two: the fixed row length
        a compiled function reads rows with (JAX's shapes are static), so that it is
        compiled for few lengths, not one per batch of texts."""
        longest = int(np.diff(self.row_splits).max(initial=1))
        return min(1 << max(longest - 1, 0).bit_length(), max(self.width, 1))


def vectorize_splits(
    train_sequences: np.ndarray, test_sequences: np.ndarray, num_words: int
) -> tuple[MultiHotRows, MultiHotRows]:
    """Node: both splits' token-id sequences as multi-hot rows of ``num_words``; a token
    id outside ``[0, num_words)`` is named with its split, row and position."""
    for name, sequences in (("x_train", train_sequences), ("x_test", test_sequences)):
        values.check_rows(sequences, name)
        values.check_range(
            np.asarray(sequences, dtype=object),
            name,
            0,
            num_words - 1,
            what=f"token ids (load.num_words is {num_words})",
        )
    return (
        MultiHotRows.from_sequences(train_sequences, num_words),
        MultiHotRows.from_sequences(test_sequences, num_words),
    )
