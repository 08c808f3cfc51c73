import pytest

from tests.backends import run_on_the_other_backend


@pytest.mark.e2e
def test_the_loop_equals_model_fit_epoch_by_epoch_on_the_other_backend():
    run_on_the_other_backend("tests/core/test_training.py")


@pytest.mark.e2e
def test_multi_hot_batches_on_the_other_backend():
    run_on_the_other_backend("tests/core/test_vectorize.py")
