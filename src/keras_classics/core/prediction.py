"""The nodes of the batch-prediction pipelines (``<name>_predict``): a person's files
(kedro-datasets' ``PartitionedDataset`` over text, image or CSV files) as raw inputs,
then the model's answers as ``predictions.csv``. ``keras_classics.core.stages.predict``
wires them.

The files are read where Kedro's lazily loading partitions are meant to be read: in
the node, one by one, so that a bad file is named.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import DatasetError

from keras_classics.core.preparation import IMAGE_SIZE, InputError

logger = logging.getLogger(__name__)

Partitions = Mapping[str, Callable[[], Any]]
# MNIST's digits: fitted in a 20 x 20 box, centred by their centre of mass in 28 x 28.
DIGIT_BOX = 20
# Pixels above this share of the brightest one belong to the digit (its bounding box).
INK_SHARE = 0.1


@dataclass(frozen=True)
class RawInputs:
    """A person's inputs: their names (``predictions.csv``'s ``input``) and values."""

    names: list[str]
    values: np.ndarray  # texts, (N, 28, 28) images, or (N, features) rows


def collect_texts(partitions: Partitions) -> RawInputs:
    """One text per file (``text.TextDataset``), in file-name order."""
    names, texts = [], []
    for name in sorted(partitions):
        try:
            text = partitions[name]()
        except (DatasetError, OSError, ValueError) as error:
            raise InputError(
                f"{name}: not readable as UTF-8 text ({_cause(error)})"
            ) from None
        if not text.strip():
            raise InputError(f"{name}: the text is empty; write one text per file")
        names.append(name)
        texts.append(text)
    return RawInputs(names, np.array(texts, dtype=object))  # as served


def collect_images(partitions: Partitions) -> RawInputs:
    """One image per file (``pillow.ImageDataset``), as MNIST's 28 x 28 digits."""
    names, images = [], []
    for name in sorted(partitions):
        try:
            image = partitions[name]()
            images.append(mnist_digit(image))
        except InputError as error:
            raise InputError(f"{name}: {error}") from None
        # Kedro's wrapping of PIL's errors for a file that is no image
        except (DatasetError, OSError, ValueError, SyntaxError) as error:
            raise InputError(
                f"{name}: not a readable image (PNG or JPEG expected): {_cause(error)}"
            ) from None
        names.append(name)
    return RawInputs(names, np.stack(images).astype(np.float64))  # as served


def collect_rows(partitions: Partitions, features: list[str]) -> RawInputs:
    """Every row of every CSV file (``pandas.CSVDataset``) with the ``features``
    columns (others ignored), named ``<file>:<row>`` counting data rows from 1."""
    names, rows = [], []
    for name in sorted(partitions):
        try:
            table = partitions[name]()
        except (DatasetError, OSError, ValueError) as error:
            raise InputError(
                f"{name}: not a readable CSV file ({_cause(error)})"
            ) from None
        missing = [column for column in features if column not in table.columns]
        if missing:
            raise InputError(
                f"{name}: no column {', '.join(missing)}; the file needs a header row "
                f"with the features {', '.join(features)}"
            )
        if table.empty:
            raise InputError(f"{name}: the file has no data rows")
        values = table[features]
        numbers = values.apply(pd.to_numeric, errors="coerce")
        bad = np.argwhere((numbers.isna() | ~np.isfinite(numbers)).to_numpy())
        if len(bad):
            row, column = bad[0]
            value = values.iat[row, column]
            shown = repr(value) if isinstance(value, str) else str(value)
            raise InputError(
                f"{name}:{row + 1}: {features[column]} is {shown}, not a number"
            )
        names += [f"{name}:{row}" for row in range(1, len(table) + 1)]
        rows.append(numbers.to_numpy(dtype=np.float64))
    return RawInputs(names, np.concatenate(rows))


def mnist_digit(image) -> np.ndarray:
    """A PIL image of a digit as MNIST's: 28 x 28 greyscale, white on black, 0-255.

    Colour becomes greyscale; light-background images (ink on paper) are inverted;
    28 x 28 images are otherwise taken as they are. Any other size is cropped to the
    digit, fitted in 20 x 20 and centred by its centre of mass, as MNIST's were made.
    """
    from PIL import Image, ImageOps  # noqa: PLC0415

    image = ImageOps.exif_transpose(image)
    if "A" in image.getbands():  # transparent: on white paper
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    pixels = np.asarray(image.convert("L"), dtype=np.float64)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if np.median(border) > 127:  # noqa: PLR2004 (a light background)
        pixels, border = 255 - pixels, 255 - border
    if pixels.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return pixels.astype(np.uint8)
    ink = np.clip(pixels - np.median(border), 0, None)
    if ink.max() <= 0:
        raise InputError("no digit found: the image is all one shade")
    rows, columns = np.nonzero(ink > INK_SHARE * ink.max())
    crop = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    crop = crop / crop.max() * 255
    height, width = crop.shape
    fit = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * fit)), max(1, round(height * fit)))
    digit = np.asarray(
        Image.fromarray(crop.astype(np.uint8)).resize(size, Image.Resampling.LANCZOS),
        dtype=np.float64,
    )
    centre = np.array(
        [
            (digit.sum(axis=1) * np.arange(digit.shape[0])).sum(),
            (digit.sum(axis=0) * np.arange(digit.shape[1])).sum(),
        ]
    ) / max(digit.sum(), 1e-9)
    top, left = np.clip(
        np.rint(IMAGE_SIZE / 2 - 0.5 - centre).astype(int),
        0,
        np.array([IMAGE_SIZE, IMAGE_SIZE]) - digit.shape,
    )
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE))
    canvas[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def _cause(error: Exception) -> Exception:
    """The file's own error, not Kedro's wrapping of it."""
    return error.__cause__ or error


def predict(model, inputs: RawInputs) -> tuple[pd.DataFrame, dict[str, float]]:
    """The answers for every input (``predictions.csv``: ``input``, then the answer's
    columns), and the count of inputs. ``model`` is a served model (MLflow's pyfunc)
    or a ``.keras`` file's ``LocalPredictor``: each prepares the inputs itself."""
    answers = pd.DataFrame(model.predict(inputs.values))
    table = pd.concat(
        [pd.Series(inputs.names, name="input"), answers.reset_index(drop=True)], axis=1
    )
    logger.info("Predicted %d inputs", len(table))
    return table, {"inputs": float(len(table))}
