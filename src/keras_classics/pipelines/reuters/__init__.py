"""Reuters newswire topics, 46-class classification (Deep Learning with Python, 4.2)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
