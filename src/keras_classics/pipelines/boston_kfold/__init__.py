"""Boston Housing regression with k-fold validation (Deep Learning with Python, ch. 4)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
