"""Small synthetic files in the exact formats of Keras' raw dataset files.

The data are learnable (targets depend on the inputs) so pipeline tests can
train on them in seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import tarfile
from pathlib import Path

import numpy as np

BOSTON_FEATURES = 13
IMAGE_SIZE = 28
DIGIT_CLASSES = 10


def write_boston_npz(path: Path, n: int = 60, seed: int = 0) -> dict[str, np.ndarray]:
    """Write ``x`` float64 (n, 13) and ``y`` float64 (n,) like Keras' file.

    ``y`` is a noisy linear function of ``x`` in Boston's price range (5 to 50).
    Like Keras' file, the zip stores ``y.npy`` then ``x.npy`` uncompressed.
    """
    rng = np.random.default_rng(seed)
    scales = rng.uniform(0.5, 100.0, BOSTON_FEATURES)
    x = rng.uniform(0.0, 1.0, (n, BOSTON_FEATURES)) * scales
    weights = rng.normal(0.0, 1.0, BOSTON_FEATURES) / scales
    signal = (x - x.mean(axis=0)) @ weights
    y = np.clip(22.5 + 6.0 * signal / signal.std() + rng.normal(0, 1.0, n), 5.0, 50.0)
    np.savez(path, y=y, x=x)
    return {"x": x, "y": y}


def digit_like_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return uint8 images (n, 28, 28) and labels (n,): a noisy prototype per class."""
    prototypes = np.random.default_rng(1234).integers(
        0, 256, (DIGIT_CLASSES, IMAGE_SIZE, IMAGE_SIZE)
    )
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, DIGIT_CLASSES, n).astype(np.uint8)
    noise = rng.integers(-40, 41, (n, IMAGE_SIZE, IMAGE_SIZE))
    images = np.clip(prototypes[labels] + noise, 0, 255).astype(np.uint8)
    return images, labels


def write_mnist_npz(
    path: Path, n_train: int, n_test: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Write ``x_train``/``x_test`` uint8 (n, 28, 28), ``y_*`` uint8 (n,), compressed."""
    x_train, y_train = digit_like_images(n_train, seed)
    x_test, y_test = digit_like_images(n_test, seed + 1)
    arrays = {
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
    }
    np.savez_compressed(path, **arrays)
    return arrays


def idx_bytes(array: np.ndarray) -> bytes:
    """A uint8 array in the IDX format: labels (N,) or images (N, rows, cols)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as gzipped IDX."""
    path.write_bytes(gzip.compress(idx_bytes(array)))


def write_sequences_npz(
    path: Path,
    n_train: int,
    n_test: int,
    vocab: int,
    kind: str = "imdb",
    *,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Write ragged word-id sequences like Keras' ``imdb.npz`` or ``reuters.npz``.

    Sequences are object arrays of Python ``int`` lists (ids 1..vocab, smaller
    ids more frequent), labels int64. ``imdb`` holds ``x_train``, ``y_train``,
    ``x_test``, ``y_test`` (labels 0/1); ``reuters`` holds ``x`` and ``y``
    (n_train + n_test samples, 4 topics), unshuffled, as in Keras' files.
    Each label favours its own band of word ids, so the data are learnable.
    """
    classes = {"imdb": 2, "reuters": 4}[kind]
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n_train + n_test)
    sequences = [_sequence(rng, int(label), classes, vocab) for label in labels]
    if kind == "reuters":
        arrays = {"x": _object_array(sequences), "y": labels}
    else:
        arrays = {
            "x_train": _object_array(sequences[:n_train]),
            "y_train": labels[:n_train],
            "x_test": _object_array(sequences[n_train:]),
            "y_test": labels[n_train:],
        }
    np.savez_compressed(path, **arrays)
    return arrays


def write_word_index(path: Path, vocab: int) -> dict[str, int]:
    """Write a word index ``{"w1": 1, ..., "w<vocab>": vocab}`` like Keras' JSON."""
    word_index = {f"w{rank}": rank for rank in range(1, vocab + 1)}
    path.write_text(json.dumps(word_index))
    return word_index


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def md5(path: Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def _sequence(
    rng: np.random.Generator, label: int, classes: int, vocab: int
) -> list[int]:
    length = int(rng.integers(5, 40))
    ranks = np.arange(1, vocab + 1)
    weights = 1.0 / ranks
    band = (ranks - 1) * classes // vocab == label
    weights[band] *= 3.0
    ids = rng.choice(ranks, size=length, p=weights / weights.sum())
    return [int(i) for i in ids]


def _object_array(sequences: list[list[int]]) -> np.ndarray:
    array = np.empty(len(sequences), dtype=object)
    for i, sequence in enumerate(sequences):
        array[i] = sequence
    return array


# A small regressor spec in the format of ``keras_classics.core.models.build_model``.
TINY_REGRESSOR_SPEC = {
    "layers": [
        {"type": "Dense", "units": 8, "activation": "relu"},
        {"type": "Dense", "units": 1},
    ],
    "compile": {
        "optimizer": {"type": "rmsprop", "learning_rate": 0.01},
        "loss": "mse",
        "metrics": ["mae"],
    },
}


# Words of the synthetic IMDB reviews: each label has its own sentiment words.
REVIEW_WORDS = {
    "pos": ("great", "wonderful", "brilliant", "superb", "moving", "loved"),
    "neg": ("awful", "boring", "dull", "terrible", "waste", "hated"),
    "any": ("the", "film", "movie", "plot", "actors", "and", "a", "café", "naïve"),
}


def write_aclimdb_tar(
    path: Path,
    reviews_per_folder: int,
    *,
    unsup: int = 0,
    extra_members: dict[str, bytes | tarfile.TarInfo] | None = None,
    seed: int = 0,
) -> dict[str, str]:
    """Write a gzipped tar in Stanford's aclImdb layout; return the reviews written.

    ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` get ``reviews_per_folder``
    reviews each (ratings 7-10 for pos, 1-4 for neg), plus ``aclImdb/README``,
    ``aclImdb/imdb.vocab`` and ``unsup`` unlabelled ``train/unsup`` reviews.
    ``extra_members`` adds members by name: bytes for a regular file, or a
    ``TarInfo`` (links, devices...) renamed to that name. Members are written in
    a shuffled order. Each review mixes common words with its label's sentiment
    words, so the data are learnable.

    Returns:
        The text of each labelled review by member name (not the extra members).
    """
    rng = np.random.default_rng(seed)
    reviews = {}
    for split in ("train", "test"):
        for label, lowest in (("pos", 7), ("neg", 1)):
            for review_id in range(reviews_per_folder):
                name = (
                    f"aclImdb/{split}/{label}/{review_id}_{lowest + review_id % 4}.txt"
                )
                reviews[name] = _review_text(rng, label)
    members: dict[str, bytes | tarfile.TarInfo] = {
        name: text.encode() for name, text in reviews.items()
    }
    members["aclImdb/README"] = b"Large Movie Review Dataset v1.0 (synthetic)\n"
    members["aclImdb/imdb.vocab"] = "\n".join(sorted(REVIEW_WORDS["any"])).encode()
    for review_id in range(unsup):
        label = ("pos", "neg")[review_id % 2]
        members[f"aclImdb/train/unsup/{review_id}_0.txt"] = _review_text(
            rng, label
        ).encode()
    members.update(extra_members or {})
    names = list(members)
    rng.shuffle(names)
    with (
        gzip.GzipFile(path, "wb", mtime=0) as stream,
        tarfile.open(fileobj=stream, mode="w", format=tarfile.GNU_FORMAT) as archive,
    ):
        for name in names:
            member = members[name]
            if isinstance(member, tarfile.TarInfo):
                member.name = name
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(name)
                info.size = len(member)
                archive.addfile(info, io.BytesIO(member))
    return reviews


def _review_text(rng: np.random.Generator, label: str) -> str:
    """A few sentences joined by ``<br /><br />`` as in the real reviews."""
    words = REVIEW_WORDS["any"] + REVIEW_WORDS[label]
    sentences = [
        " ".join(rng.choice(words, size=int(rng.integers(4, 12)))).capitalize() + "."
        for _ in range(int(rng.integers(1, 4)))
    ]
    return "<br /><br />".join(sentences)
