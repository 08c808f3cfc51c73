"""What a person has, made into what a model was trained on, and its outputs made into
answers: the one code path of the batch-prediction pipelines and the served models.

A ``Preparation`` is plain, JSON-friendly data: each training pipeline builds it from
its parameters (the ``*_preparation`` nodes here), saves it beside the trained model
(``data/06_models/<name>/preparation.json``) and serves it with the model
(``keras_classics.core.predictor``). Kinds:

- ``features``: rows of raw feature values, in the order of ``features``,
  standardised with the training ``mean`` and ``std``;
- ``word_ids``: texts as Keras' IMDB and Reuters datasets were made - Keras' original
  tokenizer (``text_to_word_sequence``: lower case, punctuation but ``'`` to spaces,
  split on spaces), ``word_index`` ranks shifted by ``index_from``, ``start_char``
  first, every word outside ``[skip_top, num_words)`` or the index as ``oov_char``,
  as ``load_data`` gives them - then the book's multi-hot vectors of ``num_words``;
- ``texts``: strings as they are, for a model that vectorises them itself;
- ``images``: 28 x 28 greyscale images, 0-255, white on black as MNIST's, times
  ``scale`` and reshaped to ``shape``.

Answers: ``prediction`` (the class name, or the predicted value), ``probability``
(the predicted class's: for one sigmoid unit, ``p`` or ``1 - p``) and, with
``top_k``, ``top_<k>``: ``class=probability`` of the ``k`` likeliest, ``; ``-separated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from keras_classics.core.vectorize import MultiHotRows

Kind = Literal["features", "word_ids", "texts", "images"]
IMAGE_SIZE = 28
# Keras' original text_to_word_sequence filters (keras.preprocessing.text, 2015),
# with which the word indexes of keras.datasets.imdb and .reuters were made.
KERAS_TEXT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_SPLIT = re.compile("[" + re.escape(KERAS_TEXT_FILTERS) + " \r]+")


class InputError(ValueError):
    """An input that can't be prepared: names the input and what is wrong."""


@dataclass(frozen=True)
class Preparation:
    kind: Kind
    class_names: list[str] | None = None  # None: a regressor
    top_k: int = 0
    features: list[str] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)  # features standardised with
    std: list[float] = field(default_factory=list)  # the training statistics
    word_ids: dict[str, int] = field(default_factory=dict)  # only those < num_words
    num_words: int = 0
    start_char: int | None = 1
    oov_char: int | None = 2
    scale: float = 1.0
    shape: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preparation:
        return cls(**data)


def feature_preparation(feature_stats: pd.DataFrame) -> dict[str, Any]:
    """Rows of the features ``feature_stats`` lists (its index), standardised with
    their training ``mean`` and ``std``; predictions are values, not classes."""
    return Preparation(
        "features",
        features=[str(name) for name in feature_stats.index],
        mean=feature_stats["mean"].astype(float).tolist(),
        std=feature_stats["std"].astype(float).tolist(),
    ).to_dict()


def text_preparation(class_names: list[str]) -> dict[str, Any]:
    """Texts as they are, for a model that vectorises them itself."""
    return Preparation("texts", class_names).to_dict()


def image_preparation(
    class_names: list[str], *, scale: float, shape: list[int]
) -> dict[str, Any]:
    """28 x 28 images (0-255) times ``scale``, reshaped to ``shape``."""
    return Preparation("images", class_names, scale=scale, shape=list(shape)).to_dict()


def word_id_preparation(
    word_index: Mapping[str, int],
    load: Mapping[str, Any],
    class_names: list[str],
    top_k: int = 0,
) -> dict[str, Any]:
    """Texts to word ids with ``load_data``'s arguments (``load``) and Keras' word
    index, as multi-hot vectors of ``load.num_words``."""
    num_words, index_from = load["num_words"], load["index_from"]
    ids = {
        word: rank + index_from
        for word, rank in word_index.items()
        if load["skip_top"] <= rank + index_from < num_words
    }
    return Preparation(
        "word_ids",
        class_names,
        top_k,
        word_ids=ids,
        num_words=num_words,
        start_char=load["start_char"],
        oov_char=load["oov_char"],
    ).to_dict()


def words(text: str) -> list[str]:
    """Keras' original ``text_to_word_sequence``: lower case, its filters to spaces,
    split on spaces (HTML's ``<br />`` becomes the word ``br``, as in its IMDB)."""
    return [word for word in _SPLIT.split(text.lower()) if word]


def text_word_ids(text: str, preparation: Preparation) -> list[int]:
    """A text's word ids as ``load_data`` gives a review or newswire."""
    known, oov = preparation.word_ids, preparation.oov_char
    start = [] if preparation.start_char is None else [preparation.start_char]
    ids = (known.get(word, oov) for word in words(text))
    return start + [i for i in ids if i is not None]


def prepare(values: Sequence[Any] | np.ndarray, preparation: Preparation):
    """Model inputs for raw ``values`` (features rows, texts or images); a bad value
    is named by its position."""
    kind = preparation.kind
    if kind == "features":
        rows = np.asarray(values, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(preparation.features):
            raise InputError(
                f"expected rows of {len(preparation.features)} feature values "
                f"({', '.join(preparation.features)}); got shape {rows.shape}"
            )
        bad = np.argwhere(~np.isfinite(rows))
        if len(bad):
            row, column = bad[0]
            raise InputError(
                f"input {row}: {preparation.features[column]} is {rows[row, column]}"
                ", not a number"
            )
        if preparation.mean:
            rows = (rows - np.asarray(preparation.mean)) / np.asarray(preparation.std)
        return rows.astype(np.float32)
    if kind == "images":
        return _images(values, preparation)
    texts = [_text(value, f"input {row}") for row, value in enumerate(values)]
    if kind == "texts":
        return np.array(texts, dtype=object)
    if kind == "word_ids":
        return MultiHotRows.from_sequences(
            [text_word_ids(text, preparation) for text in texts], preparation.num_words
        )
    raise ValueError(f"preparation kind {kind!r} is unknown")


def _images(values, preparation: Preparation) -> np.ndarray:
    """28 x 28 MNIST-style images (0-255) as the model's input."""
    images = np.asarray(values, dtype=np.float64)
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise InputError(
            f"expected 28 x 28 greyscale images, 0-255; got shape {images.shape}"
        )
    if images.size and not (
        np.isfinite(images).all() and images.min() >= 0 and images.max() <= 255  # noqa: PLR2004
    ):
        raise InputError("image pixels must be numbers from 0 to 255")
    scaled = images * preparation.scale
    # Scaled for a Keras model (float32, as trained); raw for the scratch CNN, whose
    # NumPy arithmetic is float64.
    return scaled.reshape((len(images), *preparation.shape)).astype(
        np.float32 if preparation.scale != 1 else np.float64
    )


def answers(outputs: np.ndarray, preparation: Preparation) -> pd.DataFrame:
    """The model's outputs as answers (the module's docstring)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    names = preparation.class_names
    if names is None:
        return pd.DataFrame({"prediction": outputs.reshape(len(outputs), -1)[:, 0]})
    if outputs.ndim == 1 or outputs.shape[1] == 1:  # one sigmoid unit: P(class 1)
        positive = outputs.reshape(-1)
        outputs = np.stack([1 - positive, positive], axis=1)
    best = outputs.argmax(axis=1)
    table = pd.DataFrame(
        {
            "prediction": [names[i] for i in best],
            "probability": outputs[np.arange(len(outputs)), best],
        }
    )
    if preparation.top_k:
        ranked = np.argsort(-outputs, axis=1, kind="stable")[:, : preparation.top_k]
        table[f"top_{preparation.top_k}"] = [
            "; ".join(f"{names[i]}={row[i]:.4f}" for i in order)
            for row, order in zip(outputs, ranked, strict=True)
        ]
    return table


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{name}: expected a text, got {type(value).__name__}")
    if not value.strip():
        raise InputError(f"{name}: the text is empty")
    return value
