"""Fixtures shared by all tests, and the order the test workers take the files in."""

import pytest

from tests.http_server import FileServer, closed_port

# The test files that take longest, slowest first (``python -m pytest --durations=0``
# measures them; refresh this list when it changes). pytest-xdist hands each worker
# the next file in collection order (``--dist loadfile --no-loadscope-reorder``), so
# starting with these lets the two workers finish together; the rest follow in
# collection order.
SLOWEST_FILES = [
    "tests/runner/test_dask_runner.py",
    "tests/serving/test_model_serving.py",
    "tests/pipelines/text/test_end_to_end.py",
    "tests/pipelines/mnist/test_end_to_end.py",
    "tests/reliability/test_reproducibility.py",
    "tests/serving/test_digit_predictions.py",
    "tests/pipelines/boston_kfold/test_end_to_end.py",
    "tests/reliability/test_concurrency.py",
    "tests/sweeps/test_sweeps.py",
    "tests/sweeps/test_search.py",
    "tests/reliability/test_training_faults.py",
    "tests/reliability/test_atomic_outputs.py",
    "tests/ui/test_mlflow_compare.py",
    "tests/team/test_team_tracking.py",
    "tests/backends/test_reuters.py",
    "tests/framework/test_conventions.py",
    "tests/notebooks/test_notebooks.py",
    "tests/backends/test_training_loop.py",
    "tests/reliability/test_parameter_validation.py",
    "tests/reliability/test_data_values.py",
    "tests/viz/test_kedro_viz.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files' tests first (a stable sort: each file's own order stays)."""
    rank = {path: position for position, path in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture
def http_server():
    """A local HTTP server; register files with ``http_server.serve(...)``."""
    server = FileServer().start()
    yield server
    server.stop()


@pytest.fixture
def http_closed_port() -> int:
    """A port on 127.0.0.1 where connections are refused."""
    return closed_port()
