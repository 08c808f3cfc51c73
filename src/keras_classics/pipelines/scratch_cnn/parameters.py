"""The schema of ``conf/base/parameters_scratch_cnn.yml``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from keras_classics.core.parameters import NonNegativeInt, PositiveInt, Section


class Model(Section):
    filters: PositiveInt


class Training(Section):
    epochs: PositiveInt
    batch_size: PositiveInt
    learn_rate: Annotated[float, Field(gt=0)]


class Parameters(Section):
    seed: NonNegativeInt
    train_samples: Annotated[int, Field(strict=True, ge=1, le=60_000)]
    test_samples: Annotated[int, Field(strict=True, ge=1, le=10_000)]
    class_names: Annotated[list[str], Field(min_length=10, max_length=10)]
    model: Model
    training: Training
