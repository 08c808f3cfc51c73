"""The schema of ``conf/base/parameters_mnist.yml``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from keras_classics.core.parameters import (
    HoldoutParameters,
    NonNegativeInt,
    PositiveInt,
    Section,
    check_label_encoding,
    check_output_units,
    check_validation_samples,
)

TRAIN_SAMPLES = 60_000  # MNIST and Fashion-MNIST
ClassNames = Annotated[list[str], Field(min_length=2)]


class ClassNamesByDataset(Section):
    mnist: ClassNames
    fashion_mnist: ClassNames


class Reports(Section):
    grid_images: PositiveInt
    mistakes: NonNegativeInt


class Parameters(HoldoutParameters):
    dataset: Literal["mnist", "fashion_mnist"]
    label_encoding: Literal["one_hot", "integer"]
    class_names: ClassNamesByDataset
    reports: Reports

    @model_validator(mode="after")
    def _consistent(self) -> Parameters:
        check_validation_samples(self.validation_samples, TRAIN_SAMPLES)
        classes = len(getattr(self.class_names, self.dataset))
        check_output_units(
            self.model, classes, f"{self.dataset} has {classes} classes (class_names)"
        )
        check_label_encoding(self.label_encoding, self.model.compile.loss)
        return self
