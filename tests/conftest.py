"""Fixtures shared by all tests."""

import pytest

from tests.http_server import FileServer, closed_port


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
