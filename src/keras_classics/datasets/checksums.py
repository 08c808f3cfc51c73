"""Checksums a raw file may match: Keras' ``file_hash``, a ``SHA256SUMS`` listing
beside the file, or the md5 of a gzip file's decompressed content."""

import gzip
import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keras_classics.datasets.errors import ChecksumMismatchError, CorruptFileError

SHA256SUMS = "SHA256SUMS"
_CHUNK = 1 << 20
_SHA256SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
_HASH_ALGORITHMS = {64: "sha256", 32: "md5"}


def hash_algorithm(file_hash: str) -> str:
    """Return ``sha256`` or ``md5`` from the hash's length, as ``keras.utils.get_file``.

    Raises:
        ValueError: ``file_hash`` is not 64 or 32 hexadecimal digits.
    """
    if not re.fullmatch(r"[0-9a-fA-F]+", file_hash or "") or (
        len(file_hash) not in _HASH_ALGORITHMS
    ):
        raise ValueError(
            f"{file_hash!r} is not a sha256 (64 hex digits) or md5 (32 hex digits)"
        )
    return _HASH_ALGORITHMS[len(file_hash)]


def file_digests(path: Path) -> dict[str, str]:
    """Return the file's ``sha256`` and ``md5`` hex digests, read in one pass."""
    digests = {"sha256": hashlib.sha256(), "md5": hashlib.md5()}
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            for digest in digests.values():
                digest.update(chunk)
    return {name: digest.hexdigest() for name, digest in digests.items()}


def content_md5(path: Path) -> str:
    """Return the md5 of a gzip file's decompressed bytes."""
    digest = hashlib.md5()
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(path, f"damaged gzip stream: {exc}") from exc
    return digest.hexdigest()


def listed_sha256(path: Path) -> str | None:
    """Return the sha256 that a ``SHA256SUMS`` file beside ``path`` lists for it."""
    listing = path.parent / SHA256SUMS
    if not listing.is_file():
        return None
    for line in listing.read_text(encoding="utf-8").splitlines():
        match = _SHA256SUMS_LINE.match(line)
        if match and match[2] == path.name:
            return match[1].lower()
    return None


@dataclass(frozen=True)
class _Expectation:
    description: str
    expected: str
    actual: Callable[[], str]


@dataclass(frozen=True)
class Checksums:
    """The checksums configured for one raw file.

    Attributes:
        file_hash: Keras' published hash, sha256 or md5 by its length.
        content_md5: md5 of the decompressed content of a ``.gz`` file.
    """

    file_hash: str | None = None
    content_md5: str | None = None

    def describe(self) -> str | None:
        """Phrase the checksum a correct file has, for instructions to users."""
        if self.file_hash:
            return f"{hash_algorithm(self.file_hash)} {self.file_hash.lower()}"
        if self.content_md5:
            return f"md5 of the decompressed content {self.content_md5.lower()}"
        return None

    def verify_local(self, path: Path, digests: dict[str, str]) -> str | None:
        """Check a local file against the configured hashes and ``SHA256SUMS``.

        Any one match is enough.

        Returns:
            The checksum matched, or ``None`` when none is configured or listed.

        Raises:
            ChecksumMismatchError: None of them matches; names every hash.
        """
        expectations = [
            *self._file_hash(digests),
            *_listed(path, digests),
            *self._content_md5(path),
        ]
        return _verify(expectations, digests)

    def verify_download(self, path: Path, digests: dict[str, str]) -> str | None:
        """Check a download against ``file_hash``, else against ``content_md5``."""
        expectations = self._file_hash(digests) or self._content_md5(path)
        return _verify(expectations, digests)

    def _file_hash(self, digests: dict[str, str]) -> list[_Expectation]:
        if not self.file_hash:
            return []
        algorithm = hash_algorithm(self.file_hash)
        return [
            _Expectation(algorithm, self.file_hash.lower(), lambda: digests[algorithm])
        ]

    def _content_md5(self, path: Path) -> list[_Expectation]:
        if not self.content_md5:
            return []
        return [
            _Expectation(
                "md5 of the decompressed content",
                self.content_md5.lower(),
                lambda: content_md5(path),
            )
        ]


def _listed(path: Path, digests: dict[str, str]) -> list[_Expectation]:
    listed = listed_sha256(path)
    if listed is None:
        return []
    return [
        _Expectation(
            f"sha256 listed in {path.parent / SHA256SUMS}",
            listed,
            lambda: digests["sha256"],
        )
    ]


def _verify(expectations: list[_Expectation], digests: dict[str, str]) -> str | None:
    if not expectations:
        return None
    mismatches = []
    for expectation in expectations:
        actual = expectation.actual()
        if actual == expectation.expected:
            return expectation.description
        mismatches.append(
            f"expected {expectation.description} {expectation.expected}, "
            f"file has {actual}"
        )
    raise ChecksumMismatchError(
        f"hash mismatch (file sha256 {digests['sha256']}): " + "; ".join(mismatches)
    )
