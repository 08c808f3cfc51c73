"""The schema of ``conf/base/parameters_mnist_dense.yml``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from keras_classics.core.parameters import (
    HoldoutParameters,
    check_label_encoding,
    check_output_units,
    check_validation_samples,
)

TRAIN_SAMPLES = 60_000


class Parameters(HoldoutParameters):
    class_names: Annotated[list[str], Field(min_length=10, max_length=10)]

    @model_validator(mode="after")
    def _consistent(self) -> Parameters:
        check_validation_samples(self.validation_samples, TRAIN_SAMPLES)
        check_output_units(self.model, 10, "MNIST has 10 digits")
        check_label_encoding("one_hot", self.model.compile.loss)
        return self
