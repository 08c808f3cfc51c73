"""Downloads to a temporary file through pooch, with timeouts, retries and progress."""

import http.client
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from keras_classics.console import stderr_is_terminal
from keras_classics.core.atomic import remove_files_of_dead_processes

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
    removed on leaving the block, whatever happens, unless it was moved away. One
    left by a killed process (``kill -9``) is removed by the next download of the
    same ``destination``; those of live processes are left alone.

    Raises:
        DownloadError: Every attempt failed.
    """
    remove_files_of_dead_processes(destination.parent, _part_pattern(destination))
    part = part_path(destination, os.getpid())
    try:
        _fetch_with_retries(url, part, options)
        yield part
    finally:
        part.unlink(missing_ok=True)


def part_path(destination: Path, pid: int) -> Path:
    """A new hidden temporary file beside ``destination`` for a download by process
    ``pid``: the PID tells a later download whether its writer is gone, a random
    token keeps two downloads of one process apart."""
    return destination.with_name(
        f".{destination.name}.{pid}.{secrets.token_hex(6)}.part"
    )


def _part_pattern(destination: Path) -> re.Pattern[str]:
    """The names ``part_path`` gives, with the PID as group ``pid``."""
    return re.compile(
        rf"\.{re.escape(destination.name)}\.(?P<pid>\d+)\.[0-9a-f]{{12}}\.part"
    )


def _fetch_with_retries(url: str, part: Path, options: DownloadOptions) -> None:
    """pooch fetches; the retries are the project's own. pooch's ``retry_if_failed``
    retries every failure - a 404, an unknown host, a hash mismatch too - after 1, 2,
    3 ... seconds (a 404 with two retries fails after 3 s of waiting instead of at
    once), and its error does not say how many attempts were made. Here only
    transient failures (5xx, refused or dropped connections, timeouts, truncated
    bodies) are retried, after ``backoff * 2**n`` seconds (``download`` options)."""
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
    """Stream ``url`` into ``part`` with pooch's HTTP downloader (requests), with a
    progress bar (tqdm) on a terminal."""
    import pooch  # noqa: PLC0415 (imports requests: only when downloading)
    import requests  # noqa: PLC0415

    started = time.monotonic()
    fetch = pooch.HTTPDownloader(
        progressbar=stderr_is_terminal(), chunk_size=_CHUNK, timeout=timeout
    )
    part.parent.mkdir(parents=True, exist_ok=True)
    try:
        fetch(url, str(part), None)
    except requests.HTTPError as exc:
        status = exc.response.status_code
        raise DownloadError(
            f"HTTP {status} {exc.response.reason}", transient=status >= 500
        ) from exc
    except (requests.RequestException, OSError) as exc:
        raise _connection_error(exc, timeout) from exc
    logger.info(
        "Downloaded %s: %d bytes in %.1f s",
        url,
        part.stat().st_size,
        time.monotonic() - started,
    )


def _connection_error(error: Exception, timeout: float) -> DownloadError:
    """Classify a network failure by its causes (requests wraps urllib3's and the
    socket's errors); name resolution failures are not retried."""
    import requests  # noqa: PLC0415
    import urllib3  # noqa: PLC0415
    from urllib3.exceptions import IncompleteRead  # noqa: PLC0415

    causes = list(_causes(error))

    def first(kind: type | tuple[type, ...]) -> BaseException | None:
        return next((cause for cause in causes if isinstance(cause, kind)), None)

    if truncated := first(IncompleteRead):  # bytes read, and still expected
        total = truncated.partial + truncated.expected
        return DownloadError(
            f"truncated: received {truncated.partial} of {total} bytes", transient=True
        )
    if first(ConnectionRefusedError):  # before urllib3's NewConnectionError, a timeout
        return DownloadError("connection refused", transient=True)
    if unknown := first(socket.gaierror):
        return DownloadError(f"host not found ({unknown.strerror})", transient=False)
    if first((TimeoutError, urllib3.exceptions.TimeoutError)):
        return DownloadError(f"timed out after {timeout:g} s", transient=True)
    if first((ConnectionError, http.client.HTTPException, requests.ConnectionError)):
        return DownloadError(f"connection failed: {error}", transient=True)
    return DownloadError(f"failed: {error}", transient=False)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error``, the exceptions in its arguments, and their causes, depth first."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, *current.args]
        pending.extend(e for e in reversed(linked) if isinstance(e, BaseException))
