"""The schema of ``conf/base/parameters_imdb.yml`` (and ``conf/raw_text/``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

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
        check_output_units(
            self.model, 1, "IMDB is binary: one sigmoid unit gives P(positive)"
        )
        return self
