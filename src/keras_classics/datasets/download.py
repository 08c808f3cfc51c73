"""Streaming downloads to a temporary file, with timeouts, retries and progress."""

import http.client
import logging
import secrets
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16


@dataclass(frozen=True)
class DownloadOptions:
    """How to download: socket ``timeout`` in seconds, ``retries`` after the
    first attempt on transient errors, waiting ``backoff * 2**n`` seconds before
    retry ``n + 1``."""

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> "DownloadOptions":
        """Build options from the catalog's ``download`` mapping.

        Raises:
            ValueError: Unknown keys or out-of-range values.
        """
        allowed = {field.name for field in fields(cls)}
        if unknown := set(config or {}) - allowed:
            raise ValueError(
                f"unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        options = cls(**(config or {}))
        if not (
            options.timeout > 0
            and isinstance(options.retries, int)
            and options.retries >= 0
            and options.backoff >= 0
        ):
            raise ValueError(
                f"need timeout > 0, integer retries >= 0, backoff >= 0: {options}"
            )
        return options


class DownloadError(Exception):
    """A URL could not be fetched; the message says why."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.transient = transient


@contextmanager
def downloaded(url: str, destination: Path, options: DownloadOptions) -> Iterator[Path]:
    """Download ``url`` to a hidden temporary file beside ``destination``.

    The folder is created once the server answers. The temporary file is
    removed on leaving the block, whatever happens, unless it was moved away.

    Raises:
        DownloadError: Every attempt failed.
    """
    part = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}.part")
    try:
        _fetch_with_retries(url, part, options)
        yield part
    finally:
        part.unlink(missing_ok=True)


def _fetch_with_retries(url: str, part: Path, options: DownloadOptions) -> None:
    for attempt in range(options.retries + 1):
        try:
            _fetch(url, part, options.timeout)
            return
        except DownloadError as exc:
            if exc.transient and attempt < options.retries:
                delay = options.backoff * 2**attempt
                logger.warning(
                    "Downloading %s failed (%s); retrying in %.1f s", url, exc, delay
                )
                time.sleep(delay)
                continue
            if attempt:
                raise DownloadError(
                    f"{exc} (after {attempt + 1} attempts)", transient=exc.transient
                ) from exc
            raise


def _fetch(url: str, part: Path, timeout: float) -> None:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            expected = _content_length(response)
            part.parent.mkdir(parents=True, exist_ok=True)
            with (
                part.open("wb") as sink,
                _progress(url.rsplit("/", 1)[-1], expected) as advance,
            ):
                received = _copy(response, sink, advance)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DownloadError(
            f"HTTP {exc.code} {exc.reason}", transient=exc.code >= 500
        ) from exc
    except urllib.error.URLError as exc:
        raise _connection_error(exc.reason, timeout) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _connection_error(exc, timeout) from exc
    if expected is not None and received < expected:
        raise DownloadError(
            f"truncated: received {received} of {expected} bytes", transient=True
        )
    logger.info(
        "Downloaded %s: %d bytes in %.1f s", url, received, time.monotonic() - started
    )


def _connection_error(reason: object, timeout: float) -> DownloadError:
    """Classify a network failure; name resolution failures are not retried."""
    if isinstance(reason, TimeoutError):
        return DownloadError(f"timed out after {timeout:g} s", transient=True)
    if isinstance(reason, ConnectionRefusedError):
        return DownloadError("connection refused", transient=True)
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"host not found ({reason.strerror})", transient=False)
    if isinstance(reason, ConnectionError | http.client.HTTPException):
        return DownloadError(f"connection failed: {reason!r}", transient=True)
    return DownloadError(f"failed: {reason}", transient=False)


def _content_length(response: http.client.HTTPResponse) -> int | None:
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _copy(source: BinaryIO, sink: BinaryIO, advance: Callable[[int], None]) -> int:
    received = 0
    while chunk := source.read(_CHUNK):
        sink.write(chunk)
        received += len(chunk)
        advance(len(chunk))
    return received


@contextmanager
def _progress(name: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yield a callback advancing a progress bar, shown only on a terminal."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    # Imported here: rich.progress is slow to import and needed only on a TTY.
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(name, total=total)
        yield lambda size: progress.advance(task, size)
