"""Shared building blocks of every pipeline: model from spec, training, tracking, plots."""
