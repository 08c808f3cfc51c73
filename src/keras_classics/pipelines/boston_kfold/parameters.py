"""The schema of ``conf/base/parameters_boston_kfold.yml``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from keras_classics.core.parameters import (
    FinalEpochs,
    ModelSpec,
    NonNegativeInt,
    PositiveInt,
    Section,
    TrainingSpec,
    check_output_units,
)

SAMPLES = 506  # Keras' boston_housing.npz


class Split(Section):
    test_split: Annotated[float, Field(gt=0, lt=1)]
    seed: int


class Columns(Section):
    features: Annotated[list[str], Field(min_length=1)]
    target: str


class Curve(Section):
    skip_epochs: NonNegativeInt
    smoothing_factor: Annotated[float, Field(ge=0, lt=1)]


class Parameters(Section):
    seed: NonNegativeInt
    split: Split
    columns: Columns
    k: Annotated[int, Field(strict=True, ge=2)]
    model: ModelSpec
    training: TrainingSpec
    final_epochs: FinalEpochs
    final_batch_size: PositiveInt
    curve: Curve

    @model_validator(mode="after")
    def _consistent(self) -> Parameters:
        train_samples = int(SAMPLES * (1 - self.split.test_split))
        if self.k > train_samples:
            raise ValueError(
                f"k is {self.k}, but the training set has {train_samples} samples "
                f"(split.test_split {self.split.test_split}): use 2 to {train_samples} "
                "folds"
            )
        if (
            self.final_epochs == "auto"
            and self.curve.skip_epochs >= self.training.epochs
        ):
            raise ValueError(
                f"final_epochs is auto, which picks an epoch after curve.skip_epochs "
                f"({self.curve.skip_epochs}), but training.epochs is "
                f"{self.training.epochs}: skip fewer epochs than are trained"
            )
        check_output_units(self.model, 1, "the model predicts one price")
        return self
