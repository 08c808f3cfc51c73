"""Typed parameters: each pipeline's section of ``parameters_<pipeline>.yml`` checked
against its schema (``pipelines/<name>/parameters.py``) before any data is loaded or
model built (``keras_classics.hooks.ParameterValidationHook``).

Every problem is reported at once, each naming the parameter, the value given and what
is allowed. Unknown keys are errors with a "did you mean" suggestion; layer, activation,
optimizer, loss and metric names and arguments are checked against Keras itself - by
name and signature, never by creating optimizers, metrics or layers: those can start
TensorFlow's runtime, and a process that forks afterwards (the ParallelRunner) hangs.
Keras is imported when a check runs, not with this module: Kedro commands that run no
pipeline start without TensorFlow.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
LABEL_ENCODINGS = {
    # encoding: the loss that fits it
    "one_hot": "categorical_crossentropy",
    "integer": "sparse_categorical_crossentropy",
}
# Accepted by Model.compile besides keras.metrics names.
COMPILE_METRICS = ("accuracy", "acc", "crossentropy", "ce")


class ParameterError(ValueError):
    """Invalid parameters; the message lists every problem."""


class Section(BaseModel):
    """A mapping of known keys: an unknown key is an error that suggests the closest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in cls.model_fields]
            if unknown:
                raise PydanticCustomError(
                    "unknown_keys",
                    "unknown parameter",
                    {"keys": unknown, "allowed": list(cls.model_fields)},
                )
        return data


def _final_epochs(value: Any) -> Any:
    if value == "auto" or (type(value) is int and value >= 1):
        return value
    raise ValueError("must be a whole number of epochs >= 1, or auto")


FinalEpochs = Annotated[int | str, BeforeValidator(_final_epochs)]


def suggestion(name: str, known: list[str]) -> str:
    match = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _names(module, predicate) -> list[str]:
    return [
        name for name in dir(module) if not name.startswith("_") and predicate(name)
    ]


def _check_activation(value: Any) -> None:
    import keras

    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        known = _names(keras.activations, str.islower)
        raise ValueError(
            f"activation {value!r} is not a Keras activation{suggestion(value, known)}"
        ) from None


def _arguments(*classes: type) -> list[str]:
    """The keyword arguments of the classes' constructors."""
    return [
        name
        for cls in classes
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and name != "self"
    ]


def _check_layer(spec: dict[str, Any]) -> dict[str, Any]:
    """A ``{type: <keras.layers class>, **arguments}`` spec Keras can build a layer from."""
    import keras

    from keras_classics.core import models

    kwargs = dict(spec)
    layer_type = kwargs.pop("type", None)
    arguments = _arguments(models.layer_class(layer_type), keras.layers.Layer)
    for name in kwargs:
        if name not in arguments:
            raise ValueError(
                f"{layer_type} has no argument {name!r}{suggestion(name, arguments)}"
            )
    if "activation" in kwargs:
        _check_activation(kwargs["activation"])
    return spec


LayerSpec = Annotated[dict[str, Any], AfterValidator(_check_layer)]


def _check_optimizer(spec: str | dict[str, Any]) -> str | dict[str, Any]:
    import keras

    config = {"type": spec} if isinstance(spec, str) else dict(spec)
    name = str(config.pop("type", None))
    optimizers = {
        cls.__name__.lower(): cls
        for cls in vars(keras.optimizers).values()
        if isinstance(cls, type) and issubclass(cls, keras.optimizers.Optimizer)
    }
    optimizer = optimizers.get(name.lower())
    if optimizer is None:
        raise ValueError(
            f"optimizer {name!r} is not a Keras optimizer{suggestion(name, list(optimizers))}"
        )
    arguments = _arguments(optimizer)
    for argument in config:
        if argument not in arguments:
            raise ValueError(
                f"{optimizer.__name__} has no argument {argument!r}"
                f"{suggestion(argument, arguments)}"
            )
    rate = config.get("learning_rate", 1)
    if not (isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0):
        raise ValueError(f"learning_rate must be a number > 0, not {rate!r}")
    return spec


def _check_loss(name: str) -> str:
    import keras

    try:
        keras.losses.get(name)
    except ValueError:
        known = _names(keras.losses, str.islower)
        raise ValueError(
            f"loss {name!r} is not a Keras loss{suggestion(name, known)}"
        ) from None
    return name


def _check_metric(name: str) -> str:
    """Names ``Model.compile`` accepts: its own, a Keras metric, or a loss function."""
    import keras

    if name in COMPILE_METRICS or hasattr(keras.metrics, name):
        return name
    try:
        keras.losses.get(name)
    except ValueError:
        known = [*COMPILE_METRICS, *_names(keras.metrics, str.islower)]
        raise ValueError(
            f"metric {name!r} is not a Keras metric{suggestion(name, known)}"
        ) from None
    return name


class CompileSpec(Section):
    optimizer: Annotated[str | dict[str, Any], AfterValidator(_check_optimizer)]
    loss: Annotated[str, AfterValidator(_check_loss)]
    metrics: list[Annotated[str, AfterValidator(_check_metric)]] = []


class ModelSpec(Section):
    """``core.models.build_model``'s spec."""

    name: str | None = None
    api: Literal["sequential", "functional"] = "sequential"
    layers: Annotated[list[LayerSpec], Field(min_length=1)]
    compile: CompileSpec

    def output_units(self) -> int | None:
        return self.layers[-1].get("units")


class TrainingSpec(Section):
    epochs: PositiveInt
    batch_size: PositiveInt
    verbose: Literal[0, 1, 2] = 0


class FinalSpec(Section):
    data: Literal["all", "non_held_out"]
    batch_size: PositiveInt


def check_output_units(model: ModelSpec, classes: int, why: str) -> None:
    """The last layer must have one unit per output."""
    units = model.output_units()
    if units is not None and units != classes:
        raise ValueError(
            f"model.layers[-1].units is {units}, but {why}: set it to {classes}"
        )


def check_label_encoding(label_encoding: str, loss: str) -> None:
    """One-hot labels need categorical, integer labels sparse categorical crossentropy."""
    if label_encoding not in LABEL_ENCODINGS:
        raise ValueError(
            f"label_encoding is {label_encoding!r}; use one of "
            f"{', '.join(LABEL_ENCODINGS)}"
        )
    if loss != LABEL_ENCODINGS[label_encoding]:
        raise ValueError(
            f"label_encoding {label_encoding!r} needs the loss "
            f"{LABEL_ENCODINGS[label_encoding]!r}, but model.compile.loss is "
            f"{loss!r}: change one of them"
        )


def check_validation_samples(validation_samples: int, train_samples: int) -> None:
    """A hold-out of 1 to ``train_samples - 1`` samples (negative: the last ones)."""
    if not 0 < abs(validation_samples) < train_samples:
        raise ValueError(
            f"validation_samples is {validation_samples}, but the training set has "
            f"{train_samples} samples: hold out between 1 and {train_samples - 1} "
            "(negative: the last ones)"
        )


def validate(
    parameters: Mapping[str, Any],
    schemas: Mapping[str, type[Section]],
    names: list[str],
    extra_keys: tuple[str, ...] = (),
    variants: Mapping[str, str] | None = None,
) -> None:
    """Check ``parameters[name]`` against ``schemas[name]`` for each of ``names``, and
    that every top-level key is a pipeline's section or one of ``extra_keys``; raise one
    ``ParameterError`` listing every problem. ``variants`` maps dotted paths of sweep
    variants' sections (``boston_kfold_sweep.v3.boston_kfold``) to their schema's name.
    """
    known = [*schemas, *extra_keys]
    problems = [
        f"{key}: unknown parameter section{suggestion(key, known)}"
        for key in parameters
        if key not in known
    ]
    for name in names:
        problems += section_problems(name, schemas[name], parameters.get(name, {}))
    for path, name in (variants or {}).items():
        section = parameters
        for part in path.split("."):
            section = section[part]
        problems += section_problems(path, schemas[name], section)
    raise_if_any(problems)


def field_value(
    parameters: Mapping[str, Any], schema: type[Section], name: str, key: str
) -> Any:
    """``parameters[name][key]``, for the parameters that shape a pipeline: read when
    the pipeline is built, before the section is validated at run time. An invalid
    value fails with every problem of the section."""
    field = schema.model_fields[key]
    annotation = field.annotation
    if field.metadata:
        annotation = Annotated[(annotation, *field.metadata)]
    adapter = TypeAdapter(annotation)
    try:
        return adapter.validate_python(parameters[name][key])
    except ValidationError:
        raise_if_any(section_problems(name, schema, parameters[name]))
        raise


def section_problems(name: str, schema: type[Section], section: Any) -> list[str]:
    try:
        schema.model_validate(section)
    except ValidationError as error:
        return [_describe(name, detail) for detail in error.errors()]
    return []


def raise_if_any(problems: list[str]) -> None:
    if problems:
        raise ParameterError(
            "Invalid parameters (conf/base/parameters_<pipeline>.yml, an environment's "
            "conf/<env>/, or --params):\n  - " + "\n  - ".join(problems)
        )


def _describe(name: str, detail: dict[str, Any]) -> str:
    path = name + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}"
        for part in detail["loc"]
        if not _is_union_tag(part)
    )
    if detail["type"] == "unknown_keys":
        allowed = detail["ctx"]["allowed"]
        return "; ".join(
            f"{path}.{key}: unknown parameter{suggestion(key, allowed)}"
            f" (allowed: {', '.join(allowed)})"
            for key in detail["ctx"]["keys"]
        )
    message = detail["msg"].removeprefix("Value error, ")
    given = detail.get("input")
    if isinstance(given, Mapping | list) or detail["type"] == "missing":
        return f"{path}: {message}"
    return f"{path} = {given!r}: {message}"


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"int", "str"})


class TextLoadSpec(Section):
    """Arguments of ``keras.datasets.imdb.load_data`` (and Reuters')."""

    num_words: Annotated[StrictInt, Field(ge=4)] | None = Field(
        description="ids 0-3 are padding, start, out-of-vocabulary and unused"
    )
    skip_top: NonNegativeInt = 0
    maxlen: PositiveInt | None = None
    seed: int = 113
    start_char: NonNegativeInt = 1
    oov_char: NonNegativeInt = 2
    index_from: NonNegativeInt = 3


class HoldoutParameters(Section):
    """The parameters of the hold-out stages (``keras_classics.core.stages``)."""

    seed: NonNegativeInt
    validation_samples: StrictInt
    model: ModelSpec
    training: TrainingSpec
    final_epochs: FinalEpochs
    final: FinalSpec


class PredictParameters(Section):
    """``<name>_predict``: the model to predict with, when not the catalog's default
    (``models:/<name>@champion``); the catalog reads it (catalog_predict.yml)."""

    model_uri: str | None = None
