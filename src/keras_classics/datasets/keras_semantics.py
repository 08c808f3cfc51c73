"""``keras.datasets.*.load_data`` reproduced on already-loaded raw data.

Each function takes what ``KerasRawDataset`` loads, plus Keras' own arguments
and defaults, and returns ``(x_train, y_train), (x_test, y_test)`` with the same
values, dtypes and shuffles as Keras 3.
"""

from collections.abc import Sequence

import numpy as np

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def boston_housing(
    data: dict[str, np.ndarray], *, test_split: float = 0.2, seed: int = 113
) -> Split:
    """Shuffle ``x``/``y`` with ``seed`` and split off the last ``test_split``."""
    _check_fraction("test_split", test_split)
    _check_int("seed", seed, minimum=0)
    x, y = data["x"], data["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    x_train, y_train = np.array(x[:cut]), np.array(y[:cut])
    x_test, y_test = np.array(x[cut:]), np.array(y[cut:])
    return (x_train, y_train), (x_test, y_test)


def mnist(data: dict[str, np.ndarray]) -> Split:
    """Return the ``x_train``, ``y_train``, ``x_test``, ``y_test`` arrays as stored."""
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def idx_pair(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
) -> Split:
    """Pair the four IDX arrays of MNIST or Fashion-MNIST, as stored."""
    for split, images, labels in (
        ("train", train_images, train_labels),
        ("test", test_images, test_labels),
    ):
        if len(images) != len(labels):
            raise ValueError(
                f"{split} images ({len(images)}) and labels ({len(labels)}) differ in number"
            )
    return (train_images, train_labels), (test_images, test_labels)


def imdb(
    data: dict[str, np.ndarray],
    *,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> Split:
    """Shuffle train and test, shift word ids, drop long reviews, cap the vocabulary.

    Raises:
        ValueError: An argument is out of range, or ``maxlen`` leaves no review.
    """
    _check_sequence_args(locals())
    rng = np.random.RandomState(seed)
    x_train, labels_train = _shuffled(data["x_train"], data["y_train"], rng)
    x_test, labels_test = _shuffled(data["x_test"], data["y_test"], rng)
    x_train = _shift(x_train, start_char, index_from)
    x_test = _shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, "
                "no sequence was kept. Increase maxlen."
            )
    xs = _cap_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    cut = len(x_train)
    return (
        (np.array(xs[:cut], dtype="object"), labels[:cut]),
        (np.array(xs[cut:], dtype="object"), labels[cut:]),
    )


def reuters(
    data: dict[str, np.ndarray],
    *,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> Split:
    """Shuffle, shift word ids, drop long newswires, cap the vocabulary, split.

    Raises:
        ValueError: An argument is out of range.
    """
    _check_sequence_args(locals())
    _check_fraction("test_split", test_split)
    xs, labels = _shuffled(data["x"], data["y"], np.random.RandomState(seed))
    xs = _shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = _remove_long_seq(maxlen, xs, labels)
    xs = _cap_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return (
        (np.array(xs[:cut], dtype="object"), np.array(labels[:cut])),
        (np.array(xs[cut:], dtype="object"), np.array(labels[cut:])),
    )


def word_index_offset(
    word_index: dict[str, int], index_from: int = 3
) -> dict[str, int]:
    """Return the word index with ids as they appear in loaded sequences."""
    _check_int("index_from", index_from, minimum=0)
    return {word: rank + index_from for word, rank in word_index.items()}


def decode(
    sequence: Sequence[int],
    word_index: dict[str, int],
    *,
    index_from: int = 3,
    unknown: str = "?",
) -> str:
    """Turn a loaded sequence back into words; reserved and cut ids become ``unknown``."""
    words = {i: word for word, i in word_index_offset(word_index, index_from).items()}
    return " ".join(words.get(i, unknown) for i in sequence)


def _shuffled(
    xs: np.ndarray, labels: np.ndarray, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    return xs[indices], labels[indices]


def _shift(xs: np.ndarray, start_char: int | None, index_from: int) -> list[list[int]]:
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def _remove_long_seq(
    maxlen: int, xs: list[list[int]], labels: np.ndarray
) -> tuple[list[list[int]], list]:
    """Keep the sequences strictly shorter than ``maxlen``, as Keras does."""
    kept = [(x, y) for x, y in zip(xs, labels, strict=True) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def _cap_vocabulary(
    xs: list[list[int]], num_words: int | None, skip_top: int, oov_char: int | None
) -> list[list[int]]:
    """Replace (or drop, without ``oov_char``) ids outside ``[skip_top, num_words)``.

    Without ``num_words``, the limit is the largest id, which Keras too excludes.
    """
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def _check_sequence_args(args: dict[str, int | None]) -> None:
    """Validate the arguments shared by ``imdb`` and ``reuters``."""
    for name in ("num_words", "maxlen"):
        if args[name] is not None:
            _check_int(name, args[name], minimum=1)
    for name in ("start_char", "oov_char"):
        if args[name] is not None:
            _check_int(name, args[name], minimum=0)
    for name in ("skip_top", "seed", "index_from"):
        _check_int(name, args[name], minimum=0)


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if (
        not isinstance(value, int | np.integer)
        or isinstance(value, bool)
        or value < minimum
    ):
        raise ValueError(
            f"Invalid `{name}` argument: {value!r}. It must be an integer >= {minimum}."
        )


def _check_fraction(name: str, value: object) -> None:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not 0 <= value < 1
    ):
        raise ValueError(
            f"Invalid `{name}` argument: {value!r}. It must be between 0 and 1 (exclusive of 1)."
        )
