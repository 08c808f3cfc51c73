"""The schema of ``conf/base/parameters_imdb.yml`` (and ``conf/raw_text/``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from keras_classics.backends import configured_backend
from keras_classics.core.parameters import (
    HoldoutParameters,
    NonNegativeInt,
    Section,
    TextLoadSpec,
    check_output_units,
    check_validation_samples,
)

TRAIN_SAMPLES = 25_000  # Keras' imdb.npz and Stanford's aclImdb


class Decode(Section):
    reviews: NonNegativeInt


class Parameters(HoldoutParameters):
    input: Literal["token_ids", "raw_text"]
    load: TextLoadSpec
    class_names: Annotated[list[str], Field(min_length=2, max_length=2)]
    decode: Decode

    @model_validator(mode="after")
    def _consistent(self) -> Parameters:
        check_validation_samples(self.validation_samples, TRAIN_SAMPLES)
        backend = configured_backend()
        if self.input == "raw_text" and backend != "tensorflow":
            raise ValueError(
                f"input is 'raw_text', but the Keras backend is {backend!r}: the "
                "raw-text model vectorises strings itself (a TextVectorization "
                "layer), and only TensorFlow has string tensors. Run this variant "
                "with KERAS_BACKEND=tensorflow (the default), or use input: "
                "token_ids on JAX"
            )
        check_output_units(
            self.model, 1, "IMDB is binary: one sigmoid unit gives P(positive)"
        )
        return self
