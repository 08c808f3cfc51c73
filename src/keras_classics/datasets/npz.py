"""Safe reading of ``.npz`` archives, without ``allow_pickle=True``.

Numeric members are read with pickling disabled. Object members (the ragged
IMDB/Reuters sequences) go through an unpickler that can only rebuild numpy
arrays, the same policy as Keras' ``keras/src/datasets/npz_utils.py``.
"""

import io
import math
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np

from keras_classics.datasets.errors import CorruptFileError

_ALLOWED_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global but those rebuilding numpy arrays."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to unpickle {module}.{name}")


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read every ``.npy`` member of an archive, checking headers and CRCs.

    Raises:
        CorruptFileError: The archive or one of its members is damaged, declares
            more data than it holds, or holds a pickle that is not a numpy array.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return {
                info.filename.removesuffix(".npy"): _read_member(archive, info, path)
                for info in archive.infolist()
                if info.filename.endswith(".npy")
            }
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise CorruptFileError(path, f"not a valid zip archive: {exc}") from exc


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str | Path
) -> np.ndarray:
    try:
        with archive.open(info) as member:
            dtype = _check_declared_size(member, info.file_size)
            member.seek(0)
            raw = member.read()  # a full read makes zipfile verify the CRC
        if len(raw) != info.file_size:
            raise ValueError(
                f"holds {len(raw)} bytes, its zip entry claims {info.file_size}"
            )
        if dtype.hasobject:
            return _unpickle_array(io.BytesIO(raw))
        return np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:  # any failure to parse untrusted bytes means corrupt
        raise CorruptFileError(path, f"member {info.filename!r}: {exc}") from exc


def _check_declared_size(member: io.BufferedIOBase, member_size: int) -> np.dtype:
    """Return the member's dtype; refuse numeric headers not matching the size."""
    shape, _, dtype = _read_header(member)
    if not dtype.hasobject:
        declared = math.prod(shape) * dtype.itemsize
        available = member_size - member.tell()
        if declared != available:
            raise ValueError(
                f"header declares shape {shape} of {dtype} ({declared} bytes) "
                f"but the member holds {available} bytes of data"
            )
    return dtype


def _read_header(stream: io.IOBase) -> tuple[tuple[int, ...], bool, np.dtype]:
    major, _ = np.lib.format.read_magic(stream)
    if major == 1:
        return np.lib.format.read_array_header_1_0(stream)
    if major in (2, 3):  # 3.0 only changes the header's text encoding
        return np.lib.format.read_array_header_2_0(stream)
    raise ValueError(f"unsupported .npy format version {major}")


def _unpickle_array(stream: io.BytesIO) -> np.ndarray:
    shape, _, _ = _read_header(stream)
    array = _ArrayOnlyUnpickler(stream).load()
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise ValueError(f"pickle does not hold the array of shape {shape} declared")
    return array
