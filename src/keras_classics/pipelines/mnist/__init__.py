"""MNIST (or Fashion-MNIST) digits with a small convnet (Deep Learning with Python, ch. 5/8)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
