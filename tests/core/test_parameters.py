"""Every pipeline's parameters against its schema: the defaults pass, and each kind of
mistake fails with a message naming the parameter, the value and what is allowed."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader

from keras_classics import tuning
from keras_classics.backends import configured_backend
from keras_classics.core.parameters import ParameterError, validate
from keras_classics.pipelines import PARAMETER_SCHEMAS
from keras_classics.settings import CONFIG_LOADER_ARGS
from tests.project import REPO


def configured(env: str = "local") -> dict[str, Any]:
    loader = OmegaConfigLoader(str(REPO / "conf"), env=env, **CONFIG_LOADER_ARGS)
    return loader["parameters"]


DEFAULTS = configured()
ALL = list(PARAMETER_SCHEMAS)


def check(parameters: dict[str, Any], names: list[str] = ALL) -> None:
    """``validate`` as a run does: the pipelines' sections and their searches'."""
    searches = {
        f"{name}{tuning.TUNE}": tuning.SearchParameters
        for name in tuning.searched(parameters)
    }
    validate(
        parameters,
        PARAMETER_SCHEMAS | searches,
        [*names, *searches],
        extra_keys=("run_name",),
    )


def changed(path: str, value: Any) -> dict[str, Any]:
    """The defaults with the dotted ``path`` set to ``value`` (``~`` deletes the key,
    ``@name`` renames it to ``name``); list items by index."""
    parameters = copy.deepcopy(DEFAULTS)
    *parents, last = [int(p) if p.lstrip("-").isdigit() else p for p in path.split(".")]
    node = parameters
    for part in parents:
        node = node[part]
    if isinstance(value, str) and value.startswith("@"):
        node[value[1:]] = node.pop(last)
    else:
        node[last] = value
    return parameters


CASES = [
    # id, dotted path, value, fragments the message must contain
    (
        "zero-epochs",
        "boston_kfold.training.epochs",
        0,
        ["boston_kfold.training.epochs = 0", "greater than or equal to 1"],
    ),
    (
        "negative-batch-size",
        "boston_kfold.training.batch_size",
        -16,
        ["boston_kfold.training.batch_size = -16", "greater than or equal to 1"],
    ),
    (
        "zero-final-batch-size",
        "imdb.final.batch_size",
        0,
        ["imdb.final.batch_size = 0", "greater than or equal to 1"],
    ),
    (
        "one-fold",
        "boston_kfold.k",
        1,
        ["boston_kfold.k = 1", "greater than or equal to 2"],
    ),
    (
        "more-folds-than-samples",
        "boston_kfold.k",
        500,
        ["k is 500", "404 samples", "use 2 to 404 folds"],
    ),
    (
        "validation-as-large-as-training",
        "imdb.validation_samples",
        25000,
        ["validation_samples is 25000", "25000 samples", "between 1 and 24999"],
    ),
    (
        "negative-validation-too-large",
        "mnist.validation_samples",
        -60000,
        ["validation_samples is -60000", "60000 samples"],
    ),
    (
        "no-validation",
        "reuters.validation_samples",
        0,
        ["validation_samples is 0", "8982 samples"],
    ),
    (
        "unknown-activation",
        "boston_kfold.model.layers.0.activation",
        "relux",
        [
            "boston_kfold.model.layers[0]",
            "'relux' is not a Keras activation",
            "did you mean 'relu'?",
        ],
    ),
    (
        "unknown-optimizer",
        "imdb.model.compile.optimizer.type",
        "rmsprp",
        ["imdb.model.compile.optimizer", "'rmsprp'", "did you mean 'rmsprop'?"],
    ),
    (
        "unknown-loss",
        "reuters.model.compile.loss",
        "categorical_crossentropyy",
        [
            "reuters.model.compile.loss = 'categorical_crossentropyy'",
            "did you mean 'categorical_crossentropy'?",
        ],
    ),
    (
        "unknown-layer-type",
        "mnist.model.layers.0.type",
        "Conv2d",
        [
            "mnist.model.layers[0]",
            "'Conv2d' is not a Keras layer",
            "did you mean 'Conv2D'?",
        ],
    ),
    (
        "unknown-layer-argument",
        "boston_kfold.model.layers.0.units",
        "@unit",
        [
            "boston_kfold.model.layers[0]",
            "Dense has no argument 'unit'",
            "did you mean 'units'?",
        ],
    ),
    (
        "unknown-metric",
        "imdb.model.compile.metrics.0",
        "acuracy",
        ["imdb.model.compile.metrics[0] = 'acuracy'", "did you mean 'accuracy'?"],
    ),
    (
        "units-not-46-topics",
        "reuters.model.layers.2.units",
        10,
        ["units is 10", "46 topics", "set it to 46"],
    ),
    (
        "units-not-10-digits",
        "mnist.model.layers.7.units",
        46,
        ["units is 46", "mnist has 10 classes", "set it to 10"],
    ),
    (
        "imdb-binary-units",
        "imdb.model.layers.2.units",
        2,
        ["units is 2", "IMDB is binary", "set it to 1"],
    ),
    (
        "boston-one-output",
        "boston_kfold.model.layers.2.units",
        3,
        ["units is 3", "one price", "set it to 1"],
    ),
    (
        "num-words-below-4",
        "imdb.load.num_words",
        3,
        ["imdb.load.num_words = 3", "greater than or equal to 4"],
    ),
    (
        "num-words-zero",
        "reuters.load.num_words",
        0,
        ["reuters.load.num_words = 0", "greater than or equal to 4"],
    ),
    (
        "sparse-loss-one-hot-labels",
        "reuters.model.compile.loss",
        "sparse_categorical_crossentropy",
        [
            "label_encoding 'one_hot' needs the loss 'categorical_crossentropy'",
            "'sparse_categorical_crossentropy'",
        ],
    ),
    (
        "integer-labels-categorical-loss",
        "mnist.label_encoding",
        "integer",
        ["label_encoding 'integer' needs the loss 'sparse_categorical_crossentropy'"],
    ),
    (
        "misspelled-key",
        "boston_kfold.training",
        "@trainig",
        ["boston_kfold.trainig: unknown parameter", "did you mean 'training'?"],
    ),
    (
        "misspelled-nested-key",
        "imdb.training.epochs",
        "@epoch",
        ["imdb.training.epoch: unknown parameter", "did you mean 'epochs'?"],
    ),
    (
        "misspelled-pipeline",
        "boston_kfld",
        {"k": 3},
        ["boston_kfld: unknown parameter section", "did you mean 'boston_kfold'?"],
    ),
    (
        "epochs-not-a-number",
        "reuters.training.epochs",
        "ten",
        ["reuters.training.epochs = 'ten'", "valid integer"],
    ),
    (
        "epochs-boolean",
        "mnist.training.epochs",
        True,
        ["mnist.training.epochs = True", "valid integer"],
    ),
    (
        "epochs-fractional",
        "imdb.training.epochs",
        2.5,
        ["imdb.training.epochs = 2.5", "valid integer"],
    ),
    (
        "learning-rate-not-a-number",
        "boston_kfold.model.compile.optimizer.learning_rate",
        "fast",
        ["learning_rate must be a number > 0, not 'fast'"],
    ),
    (
        "negative-learning-rate",
        "imdb.model.compile.optimizer.learning_rate",
        -0.1,
        ["learning_rate must be a number > 0, not -0.1"],
    ),
    (
        "final-epochs-word",
        "reuters.final_epochs",
        "automatic",
        ["reuters.final_epochs = 'automatic'", "or auto"],
    ),
    (
        "final-data-unknown",
        "mnist.final.data",
        "everything",
        ["mnist.final.data = 'everything'", "'all' or 'non_held_out'"],
    ),
    (
        "too-many-scratch-images",
        "scratch_cnn.train_samples",
        70000,
        ["scratch_cnn.train_samples = 70000", "less than or equal to 60000"],
    ),
    (
        "scratch-zero-learn-rate",
        "scratch_cnn.training.learn_rate",
        0,
        ["scratch_cnn.training.learn_rate = 0", "greater than 0"],
    ),
    (
        "unknown-dataset",
        "mnist.dataset",
        "fashion",
        ["mnist.dataset = 'fashion'", "'mnist' or 'fashion_mnist'"],
    ),
    (
        "unknown-input",
        "imdb.input",
        "text",
        ["imdb.input = 'text'", "'token_ids' or 'raw_text'"],
    ),
    (
        "test-split-above-one",
        "boston_kfold.split.test_split",
        1.5,
        ["boston_kfold.split.test_split = 1.5", "less than 1"],
    ),
    (
        "no-layers",
        "reuters.model.layers",
        [],
        ["reuters.model.layers", "at least 1 item"],
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "fragments"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_invalid_parameters(path, value, fragments):
    with pytest.raises(ParameterError) as raised:
        check(changed(path, value))
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, message
    # Only the mistake is reported: the rest of the defaults are valid.
    assert message.count("\n  - ") == 1, message


@pytest.mark.skipif(
    configured_backend() != "tensorflow",
    reason="raw-text IMDB is TensorFlow's (README: Backends)",
)
def test_defaults_and_environments_are_valid():
    check(DEFAULTS)
    check(configured("raw_text"))


def test_every_problem_is_reported_at_once():
    parameters = changed("boston_kfold.training.epochs", 0)
    parameters["imdb"]["load"]["num_words"] = 2
    with pytest.raises(ParameterError) as raised:
        check(parameters)
    message = str(raised.value)
    assert "boston_kfold.training.epochs = 0" in message
    assert "imdb.load.num_words = 2" in message


def test_only_the_pipelines_being_run_are_checked():
    parameters = changed("imdb.load.num_words", 2)
    check(parameters, ["boston_kfold"])
    with pytest.raises(ParameterError, match="imdb.load.num_words"):
        check(parameters, ["imdb"])


def test_auto_final_epochs_needs_epochs_after_the_skipped_ones():
    parameters = changed("boston_kfold.final_epochs", "auto")
    parameters["boston_kfold"]["curve"]["skip_epochs"] = 100
    with pytest.raises(ParameterError, match="skip fewer epochs than are trained"):
        check(parameters)
    parameters["boston_kfold"]["final_epochs"] = 80
    check(parameters)


@pytest.mark.skipif(
    configured_backend() != "tensorflow",
    reason="raw-text IMDB is TensorFlow's (README: Backends)",
)
def test_validation_leaves_tensorflow_unstarted():
    """The ParallelRunner forks after validation: a TensorFlow runtime started in the
    parent (by creating an optimizer, a metric or a TextVectorization) hangs the
    children."""
    script = (
        "from tensorflow.python.eager import context\n"
        "from tests.core.test_parameters import DEFAULTS, check, configured\n"
        "check(DEFAULTS)\n"
        "check(configured('raw_text'))\n"
        "print(context.context()._context_handle is None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == "True"
