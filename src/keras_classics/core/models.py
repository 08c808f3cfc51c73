"""Keras models from parameters: a list of layer specs to a compiled model.

A spec is plain YAML-friendly data, e.g. the book's Boston Housing regressor::

    api: sequential            # or: functional
    layers:
      - {type: Dense, units: 64, activation: relu}
      - {type: Dense, units: 64, activation: relu}
      - {type: Dense, units: 1}
    compile:
      optimizer: {type: rmsprop, learning_rate: 0.001}
      loss: mse
      metrics: [mae]

``build_model`` returns the compiled model; ``to_config``/``from_config`` turn it into
JSON-friendly data and back, so that nodes can pass an untrained architecture between
processes and every fold or retrain starts from fresh, seeded weights.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import keras

from keras_classics import compat

APIS = ("sequential", "functional")
if keras.backend.backend() != "tensorflow":
    compat.keep_tensorflow_unimported()


def build_model(
    spec: dict[str, Any],
    input_shape: tuple[int, ...],
    name: str | None = None,
    *,
    input_dtype: str = "float32",
) -> keras.Model:
    """Build and compile the model that ``spec`` describes for inputs of ``input_shape``.

    ``name`` defaults to the spec's ``name``, else "model".
    """
    api = spec.get("api", "sequential")
    if api not in APIS:
        raise ValueError(f"model.api is {api!r}; use one of {', '.join(APIS)}.")
    name = name or spec.get("name", "model")
    layers = [
        _layer(layer_spec, position)
        for position, layer_spec in enumerate(spec["layers"])
    ]
    inputs = keras.Input(shape=tuple(input_shape), dtype=input_dtype, name="features")
    if api == "sequential":
        model = keras.Sequential([inputs, *layers], name=name)
    else:
        outputs = inputs
        for layer in layers:
            outputs = layer(outputs)
        model = keras.Model(inputs=inputs, outputs=outputs, name=name)
    compile_spec = spec["compile"]
    model.compile(
        optimizer=_optimizer(compile_spec["optimizer"]),
        loss=compile_spec["loss"],
        metrics=list(compile_spec.get("metrics", [])),
    )
    return model


def to_config(model: keras.Model) -> dict[str, Any]:
    """The model's architecture and compile settings as JSON-friendly data."""
    return keras.saving.serialize_keras_object(model)


def from_config(config: dict[str, Any], seed: int | None = None) -> keras.Model:
    """A freshly initialised, compiled model from ``to_config`` data.

    With a ``seed``, random states are seeded first (``set_random_seed``), so the
    initial weights, every later random draw and the training results are
    reproducible.
    """
    if seed is not None:
        set_random_seed(seed)
    return keras.saving.deserialize_keras_object(config)


def set_random_seed(seed: int) -> None:
    """Keras' ``set_random_seed`` (Python, NumPy and the backend); on TensorFlow, its
    ops made deterministic too (for the whole process; JAX's are)."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415 (not on other backends)

        tf.config.experimental.enable_op_determinism()


def with_vocabularies(spec: dict[str, Any], texts) -> dict[str, Any]:
    """The spec with each leading ``TextVectorization`` layer's vocabulary learnt from
    ``texts`` (its ``adapt``), so that the vocabulary is part of the model's config."""
    layers = []
    for position, layer_spec in enumerate(spec["layers"]):
        if layer_spec.get("type") != "TextVectorization" or "vocabulary" in layer_spec:
            layers.append(layer_spec)
            continue
        layer = _layer(layer_spec, position)
        layer.adapt(texts)
        vocabulary = [str(word) for word in layer.get_vocabulary()]
        layers.append({**layer_spec, "vocabulary": vocabulary})
    return {**spec, "layers": layers}


def scratch_model(config: dict[str, Any], seed: int | None = None) -> keras.Model:
    """Like ``from_config``, but one instance per architecture, re-initialised each call.

    Training a model first traces its training graph (about a third of a second for
    the book's small networks); k-fold validation trains k models of one
    architecture, so re-initialising one instance - weights and optimizer state copied
    from a fresh, seeded model - traces once instead of k times, with the same results.
    The returned model is overwritten by the next call for the same architecture: use
    it only for models that are discarded after training (fold models).
    """
    fresh = from_config(config, seed)
    model = _SCRATCH_MODELS.setdefault(json.dumps(config, sort_keys=True), fresh)
    if model is not fresh:
        model.set_weights(fresh.get_weights())
        if model.optimizer.built:
            fresh.optimizer.build(fresh.trainable_variables)
            for target, source in zip(
                model.optimizer.variables, fresh.optimizer.variables, strict=True
            ):
                target.assign(source)
    return model


_SCRATCH_MODELS: dict[str, keras.Model] = {}


def layer_class(layer_type: Any) -> type[keras.layers.Layer]:
    """The ``keras.layers`` class named ``layer_type``; else a ValueError that suggests
    the closest name (the parameter checks and ``build_model`` both use it)."""
    found = getattr(keras.layers, str(layer_type), None)
    if isinstance(found, type) and issubclass(found, keras.layers.Layer):
        return found
    known = [name for name in dir(keras.layers) if name[:1].isupper()]
    hint = difflib.get_close_matches(str(layer_type), known, n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    raise ValueError(
        f"type {layer_type!r} is not a Keras layer{suggestion} "
        "(use a class name from keras.layers, e.g. 'Dense')"
    )


def _layer(spec: dict[str, Any], position: int) -> keras.layers.Layer:
    kwargs = dict(spec)
    layer_type = kwargs.pop("type", None)
    try:
        return layer_class(layer_type)(**kwargs)
    except (TypeError, ValueError) as error:
        raise ValueError(f"model.layers[{position}]: {error}") from error


def _optimizer(spec: str | dict[str, Any]) -> keras.optimizers.Optimizer:
    if isinstance(spec, str):
        spec = {"type": spec}
    config = dict(spec)
    name = config.pop("type")
    try:
        return keras.optimizers.get({"class_name": name, "config": config})
    except ValueError as error:
        raise ValueError(
            f"model.compile.optimizer {name!r} is unknown to Keras: {error}"
        ) from error
