"""Gzipped IDX reading: magic, header against data length, gzip CRC."""

import gzip
import struct

import numpy as np
import pytest

from keras_classics.datasets.errors import CorruptFileError
from keras_classics.datasets.idx import load_idx_gz
from tests.synthetic import digit_like_images, write_idx_gz


@pytest.mark.parametrize("part", [0, 1], ids=["images", "labels"])
def test_reads_what_was_written(tmp_path, part):
    array = digit_like_images(6)[part]
    path = tmp_path / "file.gz"
    write_idx_gz(path, array)

    loaded = load_idx_gz(path)

    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, array)


def test_wrong_magic_is_refused(tmp_path):
    path = tmp_path / "float.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBI", 0, 0x0D, 1, 2) + bytes(8)))

    with pytest.raises(
        CorruptFileError, match="magic number 0x00000d01 is not a uint8 IDX"
    ):
        load_idx_gz(path)


def test_header_claiming_more_items_than_it_holds_is_refused(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBI", 0, 0x08, 1, 60000) + bytes(10)))

    with pytest.raises(
        CorruptFileError,
        match=r"header claims 60000 bytes of data for shape \(60000,\)",
    ):
        load_idx_gz(path)


def test_trailing_data_is_refused(tmp_path):
    path = tmp_path / "images.gz"
    header = struct.pack(">HBBIII", 0, 0x08, 3, 2, 28, 28)
    path.write_bytes(gzip.compress(header + bytes(2 * 28 * 28 + 1)))

    with pytest.raises(CorruptFileError, match="the file holds 1569"):
        load_idx_gz(path)


def test_cut_header_is_refused(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBI", 0, 0x08, 3, 2)))

    with pytest.raises(CorruptFileError, match="IDX header cut short"):
        load_idx_gz(path)


def test_gzip_crc_is_checked(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx_gz(path, np.arange(10, dtype=np.uint8))
    content = bytearray(path.read_bytes())
    content[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    path.write_bytes(bytes(content))

    with pytest.raises(CorruptFileError, match="damaged gzip stream: CRC check failed"):
        load_idx_gz(path)


def test_truncated_gzip_is_refused(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx_gz(path, np.arange(100, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-12])

    with pytest.raises(CorruptFileError, match="damaged gzip stream"):
        load_idx_gz(path)
