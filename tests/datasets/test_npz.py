"""Safe npz reading: pickle gadgets, oversized headers, CRCs."""

import io
import os
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from keras_classics.datasets import DatasetUnavailableError, KerasRawDataset
from keras_classics.datasets.errors import CorruptFileError
from keras_classics.datasets.npz import load_npz
from tests.synthetic import write_boston_npz, write_mnist_npz, write_sequences_npz


class _Gadget:
    """Pickles as a call to ``os.system`` that creates ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def npy(header: dict, payload: bytes, version: tuple[int, int] = (1, 0)) -> bytes:
    stream = io.BytesIO()
    writer = {
        (1, 0): np.lib.format.write_array_header_1_0,
        (2, 0): np.lib.format.write_array_header_2_0,
    }[version]
    writer(stream, header)
    return stream.getvalue() + payload


def write_member(path, member: str, content: bytes) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, content)


def test_reads_numeric_and_object_arrays_like_np_load(tmp_path):
    for name, write in {
        "boston.npz": write_boston_npz,
        "mnist.npz": lambda path: write_mnist_npz(path, 7, 3),
        "imdb.npz": lambda path: write_sequences_npz(path, 6, 4, 50),
        "reuters.npz": lambda path: write_sequences_npz(path, 6, 4, 50, "reuters"),
    }.items():
        write(tmp_path / name)
        ours = load_npz(tmp_path / name)
        with np.load(tmp_path / name, allow_pickle=True) as trusted:
            assert set(ours) == set(trusted.files)
            for key, array in ours.items():
                assert array.dtype == trusted[key].dtype
                assert array.tolist() == trusted[key].tolist()


def test_reads_npy_format_2_and_ignores_other_members(tmp_path):
    path = tmp_path / "v2.npz"
    header = {"descr": "<i4", "fortran_order": False, "shape": (3,)}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "a.npy", npy(header, np.arange(3, dtype="<i4").tobytes(), (2, 0))
        )
        archive.writestr("README.txt", b"not an array")

    assert {name: array.tolist() for name, array in load_npz(path).items()} == {
        "a": [0, 1, 2]
    }


def test_pickle_gadget_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "gadget-ran"
    hostile = np.empty(1, dtype=object)
    hostile[0] = _Gadget(marker)
    path = tmp_path / "hostile.npz"
    np.savez(path, x=hostile)

    with pytest.raises(
        CorruptFileError, match=r"member 'x.npy': refused to unpickle posix.system"
    ):
        load_npz(path)
    assert not marker.exists()

    with np.load(path, allow_pickle=True) as unsafe:  # proves the gadget is live
        unsafe["x"]
    assert marker.exists()


def test_pickle_gadget_in_a_raw_file_is_refused(tmp_path):
    marker = tmp_path / "gadget-ran"
    hostile = np.empty(2, dtype=object)
    hostile[:] = [[1, 2], _Gadget(marker)]
    raw = tmp_path / "data" / "01_raw"
    raw.mkdir(parents=True)
    np.savez(raw / "reuters.npz", x=hostile, y=np.zeros(2, dtype=np.int64))
    dataset = KerasRawDataset(
        filepath=raw / "reuters.npz",
        structure={"arrays": {"x": {"dtype": "object"}, "y": {"dtype": "int64"}}},
    )

    with pytest.raises(
        DatasetUnavailableError, match="corrupt: member 'x.npy': refused"
    ):
        dataset.load()
    assert not marker.exists()


def test_pickle_of_something_else_than_an_array_is_refused(tmp_path):
    path = tmp_path / "list.npz"
    header = {"descr": "|O", "fortran_order": False, "shape": (2,)}
    write_member(path, "x.npy", npy(header, b"\x80\x03]q\x00(K\x01K\x02e."))

    with pytest.raises(CorruptFileError, match="pickle does not hold the array"):
        load_npz(path)


def test_header_declaring_far_more_than_the_member_holds_is_refused_without_allocating(
    tmp_path,
):
    path = tmp_path / "bomb.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (2**40,)}
    write_member(path, "x.npy", npy(header, bytes(16)))

    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(
        CorruptFileError,
        match=r"member 'x.npy': header declares shape \(1099511627776,\) of float64 "
        r"\(8796093022208 bytes\) but the member holds 16 bytes of data",
    ):
        load_npz(path)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1
    assert peak < 1 << 20


def test_member_holding_more_than_its_header_declares_is_refused(tmp_path):
    path = tmp_path / "long.npz"
    header = {"descr": "|u1", "fortran_order": False, "shape": (4,)}
    write_member(path, "y.npy", npy(header, bytes(6)))

    with pytest.raises(CorruptFileError, match="declares shape"):
        load_npz(path)


def test_damaged_member_fails_its_crc(tmp_path):
    path = tmp_path / "boston.npz"
    write_boston_npz(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("x.npy")
    content = bytearray(path.read_bytes())
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    content[data_start + 500] ^= 0xFF
    path.write_bytes(bytes(content))

    with pytest.raises(
        CorruptFileError, match=r"boston.npz: member 'x.npy': Bad CRC-32"
    ):
        load_npz(path)


def test_truncated_archive_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    write_mnist_npz(path, 5, 5)
    path.write_bytes(path.read_bytes()[:-100])

    with pytest.raises(CorruptFileError, match="mnist.npz: not a valid zip archive"):
        load_npz(path)
