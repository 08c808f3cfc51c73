import pytest

from tests.backends import run_on_the_other_backend


@pytest.mark.e2e
def test_the_books_figures_on_the_real_data_on_the_other_backend():
    run_on_the_other_backend(
        "tests/pipelines/boston_kfold/test_end_to_end.py::"
        "test_book_results_on_the_real_data"
    )
