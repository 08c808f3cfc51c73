"""The schema of ``conf/base/parameters_reuters.yml``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from keras_classics.core.parameters import (
    HoldoutParameters,
    TextLoadSpec,
    check_label_encoding,
    check_output_units,
    check_validation_samples,
)

SAMPLES = 11_228  # Keras' reuters.npz


class Load(TextLoadSpec):
    test_split: Annotated[float, Field(gt=0, lt=1)] = 0.2


class Parameters(HoldoutParameters):
    load: Load
    label_encoding: Literal["one_hot", "integer"]
    class_names: Annotated[list[str], Field(min_length=2)]

    @model_validator(mode="after")
    def _consistent(self) -> Parameters:
        train_samples = int(SAMPLES * (1 - self.load.test_split))
        check_validation_samples(self.validation_samples, train_samples)
        check_output_units(
            self.model,
            len(self.class_names),
            f"there are {len(self.class_names)} topics (class_names)",
        )
        check_label_encoding(self.label_encoding, self.model.compile.loss)
        return self
