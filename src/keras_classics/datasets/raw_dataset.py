"""``KerasRawDataset`` loads one raw file behind ``keras.datasets``, from the
first source that holds a verified copy: the project's file, the Keras cache, an
offline mirror, or a download."""

import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from kedro.io import AbstractDataset, DatasetError

from keras_classics.datasets.checksums import Checksums, file_digests, hash_algorithm
from keras_classics.datasets.download import DownloadError, DownloadOptions, downloaded
from keras_classics.datasets.errors import (
    ChecksumMismatchError,
    CorruptFileError,
    DatasetUnavailableError,
    DataValueError,
)
from keras_classics.datasets.structure import file_format, is_folder

logger = logging.getLogger(__name__)

MIRROR_ENV = "KERAS_CLASSICS_MIRROR"

RawData = dict[str, np.ndarray] | dict[str, int] | np.ndarray

_SOURCE_ERRORS = (DownloadError, ChecksumMismatchError, CorruptFileError, OSError)
_FOLDER_VERIFIED = "structure only: checksums do not apply to a folder"


@dataclass(frozen=True)
class LoadedFile:
    """The file a raw dataset was read from, and its sha256 (None for a folder)."""

    path: Path
    sha256: str | None


class KerasRawDataset(AbstractDataset[None, RawData]):
    """A read-only raw file of ``keras.datasets``, verified before use.

    Sources are tried in order, and the first verified copy is loaded:

    1. ``filepath``;
    2. the Keras cache, ``$KERAS_HOME/datasets/<subdir>/<name>`` (default
       ``~/.keras/datasets/...``), read in place and never written to;
    3. the mirror, ``<mirror>/<subdir>/<name>``, read in place; the environment
       variable ``KERAS_CLASSICS_MIRROR`` overrides the ``mirror`` argument;
    4. each of ``urls``, downloaded beside ``filepath`` then moved atomically to
       ``filepath`` once verified.

    A local file is verified when its hash equals ``file_hash``, or the sha256
    listed for it in a ``SHA256SUMS`` file in its folder, or (``.gz``) its
    decompressed md5 equals ``content_md5``; a download must match ``file_hash``
    (else ``content_md5``). Every file must also hold ``structure`` (see
    ``keras_classics.datasets.structure``). Files failing are skipped, and if
    no source is left, ``DatasetUnavailableError`` lists what was tried and how
    to provide the file by hand.

    ``load`` returns a dict of arrays (``.npz``), a word index dict (``.json``),
    a uint8 array (``.gz``, gzipped IDX) or, for IMDB reviews (``.tar.gz`` or
    ``.tgz``, read without extracting), a dict of arrays ``train_texts``,
    ``test_texts`` (``str`` objects) and ``train_labels``, ``test_labels``
    (int64, pos = 1); see ``keras_classics.datasets.reviews``.

    ``filepath`` may also name an extracted IMDB reviews folder (no suffix,
    ``structure: {reviews: ...}``), looked for in the same local sources.
    Checksums do not apply to a folder: its structure decides, and it cannot be
    downloaded (name the ``.tar.gz`` for that).

    Examples:
        Using the YAML API:

        ```yaml
        boston_housing_raw:
          type: keras_classics.datasets.KerasRawDataset
          filepath: data/01_raw/boston_housing.npz
          file_hash: f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5
          urls:
            - https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz
          structure:
            arrays:
              x: {dtype: float64, shape: [null, 13]}
              y: {dtype: float64, shape: [null]}
          download: {timeout: 30, retries: 3, backoff: 1.0}
        ```

        Using the Python API:

        >>> dataset = KerasRawDataset(
        ...     filepath="data/01_raw/fashion-mnist/t10k-labels-idx1-ubyte.gz",
        ...     subdir="fashion-mnist",
        ...     content_md5="15d484375f8d13e6eb1aabb0c3f46965",
        ...     structure={"idx": {"kind": "labels"}},
        ... )
        >>> labels = dataset.load()  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        filepath: str | os.PathLike,
        urls: list[str] | None = None,
        subdir: str | None = None,
        file_hash: str | None = None,
        content_md5: str | None = None,
        mirror: str | os.PathLike | None = None,
        structure: dict[str, Any] | None = None,
        download: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates a new instance of ``KerasRawDataset``.

        Args:
            filepath: Canonical local path, e.g. ``data/01_raw/mnist.npz``; its
                suffix (``.npz``, ``.json``, ``.gz``, ``.tar.gz``/``.tgz``) sets
                the format; without one, it is a folder of IMDB reviews.
            urls: Full URLs tried in order: Keras' official one, then mirrors.
            subdir: Sub-folder of the file in the Keras cache and the mirror.
            file_hash: Keras' published hash: sha256 (64 hex digits) or md5 (32).
            content_md5: md5 of a ``.gz`` file's decompressed bytes.
            mirror: Folder of offline copies; relative to the working directory.
            structure: What the file must hold; see
                ``keras_classics.datasets.structure``.
            download: ``timeout`` (seconds, default 30), ``retries`` (3) and
                ``backoff`` (1.0 s, doubled at each retry).
            metadata: Any arbitrary metadata, ignored by Kedro (kedro-viz uses it).

        Raises:
            DatasetError: An argument is invalid.
        """
        self._filepath = Path(filepath)
        self._urls = _checked_urls(urls)
        self._subdir = _checked_subdir(subdir)
        self._checksums = _checked_checksums(file_hash, content_md5, self._filepath)
        self._mirror = mirror
        self._structure = structure
        self._format = file_format(self._filepath, structure)
        self._folder = is_folder(self._filepath, structure)
        if self._folder and (urls or file_hash or content_md5):
            raise DatasetError(
                f"'{self._filepath}' is a folder: it takes no 'urls', 'file_hash' "
                "or 'content_md5' (checksums do not apply to folders; to download "
                "or verify, name the .tar.gz as filepath)"
            )
        self._download = download
        try:
            self._download_options = DownloadOptions.from_config(download)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"Invalid download options {download!r}: {exc}") from exc
        self.metadata = metadata
        self.loaded_files: list[LoadedFile] = []

    def load(self) -> RawData:
        """Load the first verified copy of the file from its sources; it is then in
        ``loaded_files`` (what MLflow records as the run's dataset input).

        Raises:
            DatasetUnavailableError: No source holds a verified copy.
        """
        failures = []
        for place, read in self._attempts():
            try:
                data, checksum, loaded = read()
            except _SOURCE_ERRORS as exc:
                reason = _reason(exc)
                log = logger.debug if reason == "missing" else logger.warning
                log("Skipped %s: %s", place, reason)
                failures.append(f"{place}: {reason}")
                continue
            if checksum is None:
                logger.warning(
                    "No checksum configured or listed for %s: accepted on its "
                    "structure alone",
                    place,
                )
            verified_by = checksum or "structure only"
            logger.info(
                "Loaded %s from %s (%s)", self._filepath.name, place, verified_by
            )
            self.loaded_files = [loaded]
            return data
        raise DatasetUnavailableError(self._unavailable_message(failures))

    def save(self, data: None) -> NoReturn:
        """Refuse to save: the raw files are inputs only."""
        raise DatasetError(
            f"KerasRawDataset '{self._filepath}' is read-only: raw files are "
            "fetched or copied in, never written by a pipeline."
        )

    def _exists(self) -> bool:
        if self._folder:
            return any(path.is_dir() for _, path in self._local_sources())
        return any(path.is_file() for _, path in self._local_sources())

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "subdir": self._subdir or None,
            "file_hash": self._checksums.file_hash,
            "content_md5": self._checksums.content_md5,
            "urls": self._urls,
            "mirror": self._mirror,
            "structure": self._structure,
            "download": self._download,
        }

    def _attempts(
        self,
    ) -> Iterator[tuple[str, Callable[[], tuple[RawData, str | None, LoadedFile]]]]:
        for source, path in self._local_sources():
            yield f"{source} {path}", lambda path=path: self._read_local(path)
        for url in self._urls:
            yield f"download {url}", lambda url=url: self._fetch(url)

    def _local_sources(self) -> list[tuple[str, Path]]:
        relative = Path(self._subdir, self._filepath.name)
        sources = [
            ("filepath", self._filepath.absolute()),
            ("Keras cache", _keras_cache() / relative),
        ]
        if mirror := self._mirror_folder():
            sources.append(("mirror", mirror / relative))
        return sources

    def _mirror_folder(self) -> Path | None:
        folder = os.environ.get(MIRROR_ENV) or self._mirror
        return Path(folder).expanduser().absolute() if folder else None

    def _read_local(self, path: Path) -> tuple[RawData, str | None, LoadedFile]:
        if self._folder:
            return self._format.read(path), _FOLDER_VERIFIED, LoadedFile(path, None)
        digests = file_digests(path)
        checksum = self._checksums.verify_local(path, digests)
        try:
            return (
                self._format.read(path),
                checksum,
                LoadedFile(path, digests["sha256"]),
            )
        except CorruptFileError as exc:
            problem = f"{exc.problem} (file sha256 {digests['sha256']})"
            if checksum is None:  # accepted on its structure alone: not the file
                raise CorruptFileError(path, problem) from exc
            raise DataValueError(f"{problem}. {_chosen(checksum)}", path) from None
        except DataValueError as exc:
            raise DataValueError(f"{exc.problem}. {_chosen(checksum)}", path) from None

    def _fetch(self, url: str) -> tuple[RawData, str | None, LoadedFile]:
        with downloaded(url, self._filepath.absolute(), self._download_options) as part:
            digests = file_digests(part)
            checksum = self._checksums.verify_download(part, digests)
            data = self._format.read(part)
            os.replace(part, self._filepath)
        return data, checksum, LoadedFile(self._filepath.absolute(), digests["sha256"])

    def _unavailable_message(self, failures: list[str]) -> str:
        name = self._filepath.name
        tried = list(failures)
        if not self._mirror_folder():
            tried.insert(
                len(self._local_sources()),
                f"mirror: none configured ({MIRROR_ENV} unset, no `mirror`)",
            )
        if not self._urls:
            tried.append("download: no URL configured")
        lines = [f"Could not load {name} from any source. Tried:"]
        lines += [f"  - {attempt}" for attempt in tried]
        if self._urls:
            lines.append(f"To fix this, download {self._urls[0]}")
            lines += [f"  (or {url})" for url in self._urls[1:]]
        else:
            lines.append(f"To fix this, get {name}")
        lines.append(f"and save it as {self._filepath.absolute()}")
        checksum = self._checksums.describe()
        lines.append(
            f"(expected {checksum})."
            if checksum
            else "(no checksum is configured: only its structure is checked)."
        )
        relative = Path(self._subdir, name).as_posix()
        lines.append(f"Or set {MIRROR_ENV} to a folder holding {relative}.")
        return "\n".join(lines)


def _chosen(checksum: str | None) -> str:
    """What to do about a bad value in the local copy that was chosen."""
    why = f"its checksum matched: {checksum}" if checksum else "the first one found"
    return (
        f"This copy is the one chosen ({why}), so no other copy is used in its "
        "place: correct the file (and its line in SHA256SUMS), or move it away to "
        "use a verified copy from the Keras cache, the mirror or a download"
    )


def _keras_cache() -> Path:
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets"


def _reason(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if isinstance(exc, CorruptFileError):
        return f"corrupt: {exc.problem}"
    return str(exc)


def _checked_urls(urls: list[str] | None) -> list[str]:
    if urls is None:
        return []
    if isinstance(urls, str) or not all(isinstance(url, str) for url in urls):
        raise DatasetError(f"'urls' must be a list of URLs, got {urls!r}")
    return list(urls)


def _checked_subdir(subdir: str | None) -> str:
    if subdir and (Path(subdir).is_absolute() or ".." in Path(subdir).parts):
        raise DatasetError(f"'subdir' must be a relative folder name, got {subdir!r}")
    return subdir or ""


def _checked_checksums(
    file_hash: str | None, content_md5: str | None, filepath: Path
) -> Checksums:
    if file_hash is not None:
        try:
            hash_algorithm(file_hash)
        except ValueError as exc:
            raise DatasetError(f"Invalid 'file_hash': {exc}") from exc
    if content_md5 is not None and (
        filepath.suffix != ".gz" or not re.fullmatch(r"[0-9a-fA-F]{32}", content_md5)
    ):
        raise DatasetError(
            f"Invalid 'content_md5' {content_md5!r}: it is the md5 (32 hex digits) "
            "of a .gz file's decompressed content"
        )
    return Checksums(file_hash, content_md5)
