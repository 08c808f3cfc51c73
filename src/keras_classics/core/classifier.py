"""What classifiers share beyond the stages: label encodings, predicted classes, and
the per-class reports (IMDB, Reuters, MNIST, the scratch CNN)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from keras_classics.core import plots
from keras_classics.core.parameters import check_label_encoding


def encode_labels(
    train_classes: np.ndarray,
    test_classes: np.ndarray,
    label_encoding: str,
    class_names: list[str],
    loss: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Class ids as one-hot rows (for ``categorical_crossentropy``) or as integers
    (for ``sparse_categorical_crossentropy``): the same information, two encodings."""
    check_label_encoding(label_encoding, loss)
    if label_encoding == "integer":
        return train_classes.astype(np.int64), test_classes.astype(np.int64)
    identity = np.eye(len(class_names), dtype=np.float32)
    return identity[train_classes], identity[test_classes]


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class ids from sigmoid (one column) or softmax outputs."""
    if outputs.ndim == 1 or outputs.shape[1] == 1:
        return (outputs.reshape(-1) > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def true_classes(labels: np.ndarray) -> np.ndarray:
    """Class ids from integer or one-hot labels."""
    return labels.argmax(axis=1) if labels.ndim == 2 else labels.astype(np.int64)


def confusion_matrix(
    y_test: np.ndarray, outputs: np.ndarray, class_names: list[str]
) -> Figure:
    """Counts of true (rows) against predicted (columns) classes."""
    from sklearn import metrics

    counts = metrics.confusion_matrix(
        true_classes(y_test),
        predicted_classes(outputs),
        labels=range(len(class_names)),
    )
    return plots.confusion_matrix(counts, class_names)


def class_report(
    y_test: np.ndarray, outputs: np.ndarray, class_names: list[str]
) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support on the test set (scikit-learn's
    ``classification_report``; 0 where a class is never predicted or never true)."""
    from sklearn import metrics

    report = metrics.classification_report(
        true_classes(y_test),
        predicted_classes(outputs),
        labels=range(len(class_names)),
        target_names=class_names,
        output_dict=True,
        zero_division=0.0,
    )
    return pd.DataFrame(
        [
            {
                "class_id": class_id,
                "class": name,
                "precision": report[name]["precision"],
                "recall": report[name]["recall"],
                "f1": report[name]["f1-score"],
                "support": int(report[name]["support"]),
            }
            for class_id, name in enumerate(class_names)
        ]
    )
