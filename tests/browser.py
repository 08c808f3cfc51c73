"""Debian's headless Chromium, driven by Playwright over the DevTools protocol.

Playwright here only speaks to the browser: it never downloads one of its own.
``.ci/run`` installs ``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.servers import stop_group, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1000",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator:
    """Headless Chromium in its own process group, driven by Playwright over CDP."""
    chromium = subprocess.Popen(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: renderers, zygote, GPU...
    )
    try:
        port = _devtools_port(profile, chromium)
        with sync_playwright() as playwright:
            connected = playwright.chromium.connect_over_cdp(
                f"http://127.0.0.1:{port}", timeout=30_000
            )
            try:
                yield connected
            finally:
                connected.close()
    finally:
        stop_group(chromium, timeout=5)


def _devtools_port(profile: Path, process: subprocess.Popen) -> int:
    """The DevTools port Chromium picked (``--remote-debugging-port=0``)."""
    active = profile / "DevToolsActivePort"

    def port() -> int | None:
        lines = active.read_text().splitlines() if active.is_file() else []
        return int(lines[0]) if lines else None

    return wait_until(
        port, 30, "DevTools port from chromium", alive=lambda: process.poll() is None
    )
