"""Reading of the Large Movie Review Dataset (raw IMDB reviews, Maas et al. 2011).

Stanford's ``aclImdb_v1.tar.gz`` holds one review per file,
``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt``, beside files this reader
ignores: ``README``, ``imdb.vocab``, ``imdbEr.txt``, the ``*.feat`` and
``urls_*.txt`` files and the 50,000 unlabelled reviews of ``train/unsup/``.

The archive is read as a stream, never extracted. An extracted folder (the one
holding ``train/`` and ``test/``) gives the same arrays: ``train_texts`` and
``test_texts`` (object arrays of ``str``), ``train_labels`` and ``test_labels``
(int64, pos = 1, neg = 0). Each split lists its ``pos`` reviews then its ``neg``
ones, each in lexicographic file-name order (``0_9.txt``, ``10000_8.txt``, ...):
the order Keras' ``imdb.npz`` was built in.
"""

import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from keras_classics.datasets.errors import CorruptFileError

ROOT = "aclImdb"
SPLITS = ("train", "test")
LABELS = {"pos": 1, "neg": 0}  # also the order of the reviews in each split
_CHUNK = 1 << 20

# Texts by file name, for each (split, label) folder.
_Reviews = dict[tuple[str, str], dict[str, str]]


def load_reviews_tar(path: str | Path) -> dict[str, np.ndarray]:
    """Read the labelled reviews of an ``aclImdb`` ``.tar.gz``, streaming.

    Raises:
        CorruptFileError: The gzip or tar stream is damaged (CRC, truncation), a
            member is unsafe (absolute path, ``..``, link, device), a review is
            not UTF-8 or appears twice.
    """
    reviews = _no_reviews()
    with Path(path).open("rb") as stream:  # a missing file stays FileNotFoundError
        try:
            with tarfile.open(fileobj=stream, mode="r:gz") as archive:
                for member in archive:
                    if (key := _review_key(member, path)) is not None:
                        content = archive.extractfile(member).read()
                        _add(reviews, key, content, member.name, path)
                # tarfile stops at the end-of-archive blocks; reading the rest
                # makes gzip check the CRC and length in its trailer
                while archive.fileobj.read(_CHUNK):
                    pass
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise CorruptFileError(path, f"damaged tar.gz archive: {exc}") from exc
    return _arrays(reviews)


def load_reviews_folder(folder: str | Path) -> dict[str, np.ndarray]:
    """Read the labelled reviews of an extracted ``aclImdb`` folder.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        NotADirectoryError: ``folder`` is a file.
        CorruptFileError: A review is not UTF-8.
    """
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise NotADirectoryError(f"{folder} is not a folder")
        raise FileNotFoundError(f"{folder} does not exist")
    reviews = _no_reviews()
    for split, label in reviews:
        subfolder = folder / split / label
        if not subfolder.is_dir():
            continue
        for file in subfolder.iterdir():
            if file.suffix == ".txt" and file.is_file():
                name = file.relative_to(folder).as_posix()
                _add(
                    reviews, (split, label, file.name), file.read_bytes(), name, folder
                )
    return _arrays(reviews)


def _no_reviews() -> _Reviews:
    return {(split, label): {} for split in SPLITS for label in LABELS}


def _review_key(member: tarfile.TarInfo, path: str | Path) -> tuple[str, ...] | None:
    """Return (split, label, file name) of a review member, ``None`` for others.

    Raises:
        CorruptFileError: The member is unsafe, whether a review or not.
    """
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise CorruptFileError(path, f"unsafe member {member.name!r}: path escapes")
    if not (member.isfile() or member.isdir()):
        raise CorruptFileError(
            path, f"unsafe member {member.name!r}: {_special_kind(member)}"
        )
    parts = tuple(part for part in name.parts if part != ".")
    if (
        member.isfile()
        and len(parts) == 4
        and parts[0] == ROOT
        and parts[1] in SPLITS
        and parts[2] in LABELS
        and parts[3].endswith(".txt")
    ):
        return parts[1:]
    return None


def _special_kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"hard link to {member.linkname!r}"
    if member.ischr() or member.isblk():
        return "device"
    if member.isfifo():
        return "FIFO"
    return f"special file (type {member.type!r})"


def _add(
    reviews: _Reviews,
    key: tuple[str, ...],
    content: bytes,
    name: str,
    path: str | Path,
) -> None:
    split, label, file_name = key
    texts = reviews[split, label]
    if file_name in texts:
        raise CorruptFileError(path, f"review {name!r} appears twice")
    try:
        texts[file_name] = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(path, f"review {name!r} is not UTF-8: {exc}") from exc


def _arrays(reviews: _Reviews) -> dict[str, np.ndarray]:
    arrays = {}
    for split in SPLITS:
        texts: list[str] = []
        labels: list[int] = []
        for label, value in LABELS.items():
            by_name = reviews[split, label]
            texts += [by_name[name] for name in sorted(by_name)]
            labels += [value] * len(by_name)
        arrays[f"{split}_texts"] = _object_array(texts)
        arrays[f"{split}_labels"] = np.array(labels, dtype=np.int64)
    return arrays


def _object_array(texts: list[str]) -> np.ndarray:
    array = np.empty(len(texts), dtype=object)
    array[:] = texts
    return array
