"""A CNN from first principles in NumPy, after Victor Zhou's "CNNs, Part 1/2".

Conv3x3 (8 filters) -> MaxPool2 -> Softmax (10 classes), cross-entropy, plain SGD.
``layers`` and ``network`` are the vectorised, mini-batch version; ``reference`` is
Zhou's loop version (region by region, one image at a time), kept as the baseline.
"""

from keras_classics.scratch.layers import Conv3x3, MaxPool2, Softmax
from keras_classics.scratch.network import ScratchCNN

__all__ = ["Conv3x3", "MaxPool2", "ScratchCNN", "Softmax"]
