"""Reading of gzipped IDX files (the MNIST and Fashion-MNIST distribution format).

An IDX file starts with a big-endian magic number ``0x0000TTNN`` (``TT`` the
element type, ``0x08`` for uint8; ``NN`` the number of dimensions), then one
big-endian uint32 per dimension, then the data: ``0x00000801`` for labels
``(N,)``, ``0x00000803`` for images ``(N, rows, cols)``.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from keras_classics.datasets.errors import CorruptFileError

_UBYTE = 0x08


def load_idx_gz(path: str | Path) -> np.ndarray:
    """Read a gzipped uint8 IDX file into an array shaped as its header says.

    The array is a read-only view of the decompressed bytes, like the arrays
    ``keras.datasets.fashion_mnist.load_data`` returns.

    Raises:
        CorruptFileError: The gzip stream is damaged (CRC, truncation), the magic
            number is not a uint8 IDX one, or the data length differs from the
            header's claim.
    """
    try:
        with gzip.open(path, "rb") as stream:
            content = stream.read()  # a full read makes gzip verify CRC and length
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(path, f"damaged gzip stream: {exc}") from exc
    dims = _parse_header(content, path)
    offset = 4 + 4 * len(dims)
    if len(content) - offset != math.prod(dims):
        raise CorruptFileError(
            path,
            f"header claims {math.prod(dims)} bytes of data for shape "
            f"{dims}, the file holds {len(content) - offset}",
        )
    return np.frombuffer(content, dtype=np.uint8, offset=offset).reshape(dims)


def _parse_header(content: bytes, path: str | Path) -> tuple[int, ...]:
    if len(content) < 4:
        raise CorruptFileError(path, "too short for an IDX header")
    zeros, element_type, ndim = struct.unpack(">HBB", content[:4])
    if zeros != 0 or element_type != _UBYTE or ndim == 0:
        raise CorruptFileError(
            path,
            f"magic number 0x{content[:4].hex()} is not a uint8 IDX one "
            "(0x00000801 labels, 0x00000803 images)",
        )
    if len(content) < 4 + 4 * ndim:
        raise CorruptFileError(path, "IDX header cut short")
    return struct.unpack(f">{ndim}I", content[4 : 4 + 4 * ndim])
