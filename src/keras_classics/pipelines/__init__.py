"""The pipelines, one package each, and the schemas of their parameters."""

from keras_classics.pipelines.boston_kfold import parameters as _boston_kfold
from keras_classics.pipelines.imdb import parameters as _imdb
from keras_classics.pipelines.mnist import parameters as _mnist
from keras_classics.pipelines.reuters import parameters as _reuters
from keras_classics.pipelines.scratch_cnn import parameters as _scratch_cnn

PARAMETER_SCHEMAS = {
    "boston_kfold": _boston_kfold.Parameters,
    "imdb": _imdb.Parameters,
    "mnist": _mnist.Parameters,
    "reuters": _reuters.Parameters,
    "scratch_cnn": _scratch_cnn.Parameters,
}
