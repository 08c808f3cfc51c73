"""Learning-curve figures (matplotlib's object API: no pyplot state, no display)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def smooth(values: Sequence[float], factor: float = 0.9) -> list[float]:
    """The book's exponential moving average of a noisy curve: each point is
    ``previous * factor + point * (1 - factor)`` (pandas' ``ewm``, not adjusted)."""
    return (
        pd.Series(values, dtype="float64")
        .ewm(alpha=1 - factor, adjust=False)
        .mean()
        .tolist()
    )


def learning_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    first_epoch: int = 1,
) -> Figure:
    """One line per named curve against the epoch number."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for label, values in curves.items():
        epochs = range(first_epoch, first_epoch + len(values))
        axes.plot(epochs, values, label=label)
    axes.set(title=title, xlabel="Epochs", ylabel=ylabel)
    axes.grid(alpha=0.3)
    if len(curves) > 1:
        axes.legend()
    return figure


def confusion_matrix(counts, class_names: Sequence[str]) -> Figure:
    """A confusion-matrix heat map: true classes in rows, predicted in columns."""
    size = max(4.5, 0.22 * len(class_names) + 2)
    figure = Figure(figsize=(size, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.8)
    ticks = range(len(class_names))
    font = 8 if len(class_names) > 10 else 10
    axes.set_xticks(ticks, class_names, rotation=90, fontsize=font)
    axes.set_yticks(ticks, class_names, fontsize=font)
    axes.set(title="Confusion matrix (test set)", xlabel="Predicted", ylabel="True")
    if len(class_names) <= 10:
        for (row, column), count in np.ndenumerate(counts):
            axes.text(column, row, str(count), ha="center", va="center", fontsize=9)
    return figure


def image_grid(
    images: np.ndarray, titles: Sequence[str], *, title: str, columns: int = 8
) -> Figure:
    """Grayscale images in a grid, each with a short title."""
    rows = max(1, -(-len(images) // columns))
    figure = Figure(figsize=(1.6 * columns, 1.8 * rows + 0.4), layout="constrained")
    figure.suptitle(title)
    for position in range(rows * columns):
        axes = figure.add_subplot(rows, columns, position + 1)
        axes.axis("off")
        if position < len(images):
            axes.imshow(np.squeeze(images[position]), cmap="binary")
            axes.set_title(titles[position], fontsize=8)
    return figure
