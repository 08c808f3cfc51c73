"""Atomic saves: a file the project writes appears whole or not at all.

``AtomicDataset`` saves through a second instance of the wrapped kedro-datasets
dataset, pointed at a hidden file beside the target that keeps its suffix (so formats
and compression are still inferred from it): ``model.keras`` is written as
``.model.<pid>.partial.keras``, flushed to disk, then renamed onto the target with
``os.replace``, atomic within a file system. Whatever happens, even ``kill -9``, the
target holds the previous complete file or the new one.

A failed save removes its partial file. One left by a killed process (whose PID is
no longer alive) is removed by the next save of the same target; partial files of
live processes are left alone, as two runs may write the same target at once (the
last rename wins). Downloads (``keras_classics.datasets.download``) clean up their
temporary files the same way, with ``remove_files_of_dead_processes`` and
``pid_alive``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import get_protocol_and_path


class AtomicDataset(AbstractDataset[Any, Any]):
    """Saves a kedro-datasets dataset atomically; loads, checks and describes it as is.

    ``dataset`` is the wrapped dataset's catalog config (``type``, ``filepath``, ...).
    Only unversioned local files are accepted: a remote store has no atomic rename to
    build on (object stores already publish an object whole), and a versioned dataset
    writes a new file per run anyway; rather than claim a guarantee that does not
    hold, such a config is refused.
    """

    def __init__(self, dataset: dict[str, Any], metadata: dict[str, Any] | None = None):
        self._config = {**dataset, "filepath": str(dataset["filepath"])}
        protocol, path = get_protocol_and_path(self._config["filepath"])
        versioned = self._config.get("versioned")
        if protocol != "file" or versioned:
            raise DatasetError(
                "AtomicDataset saves unversioned local files only, got "
                f"{'versioned ' if versioned else ''}{self._config['filepath']!r}"
            )
        self._target = Path(path)
        self._dataset = AbstractDataset.from_config(str(self._target), self._config)
        self.metadata = metadata
        if hasattr(self._dataset, "preview"):
            # The wrapped method itself: kedro-viz reads the preview type from its
            # return annotation.
            self.preview = self._dataset.preview

    def _save(self, data: Any) -> None:
        self._target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(self._target)
        partial = partial_path(self._target, os.getpid())
        try:
            AbstractDataset.from_config(
                str(partial), {**self._config, "filepath": str(partial)}
            ).save(data)
            _fsync(partial)
            # The folder is not fsynced: after a power cut the rename may be lost,
            # which leaves the previous file, still whole.
            os.replace(partial, self._target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def _load(self) -> Any:
        return self._dataset.load()

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return self._dataset._describe()


def partial_path(target: Path, pid: int) -> Path:
    """The hidden file process ``pid`` writes before renaming it to ``target``."""
    return target.with_name(f".{target.stem}.{pid}.partial{target.suffix}")


def _remove_stale_partials(target: Path) -> None:
    """Remove partial files of ``target`` left by processes no longer alive."""
    remove_files_of_dead_processes(
        target.parent,
        re.compile(
            rf"\.{re.escape(target.stem)}\.(?P<pid>\d+)\.partial{re.escape(target.suffix)}"
        ),
    )


def remove_files_of_dead_processes(folder: Path, pattern: re.Pattern[str]) -> None:
    """Remove the files in ``folder`` whose names match ``pattern`` in full and whose
    ``pid`` group names a process no longer alive. Files of live processes, and
    every file of a missing folder, are left alone."""
    try:
        paths = list(folder.iterdir())
    except FileNotFoundError:
        return
    for path in paths:
        match = pattern.fullmatch(path.name)
        if match and not pid_alive(int(match["pid"])):
            path.unlink(missing_ok=True)  # another process may be removing it too


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (or is a zombie not yet reaped).

    On Windows ``os.kill(pid, 0)`` would send Ctrl-C rather than check, so the
    process is opened and its exit code read instead.
    """
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # POSIX: signal 0 checks the PID exists, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def _windows_pid_alive(pid: int) -> bool:
    import ctypes  # noqa: PLC0415 (Windows only)
    from ctypes import wintypes  # noqa: PLC0415

    query_limited_information, still_active, access_denied = 0x1000, 259, 5
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, wintypes.LPDWORD)
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:  # no such process, or another user's
        return ctypes.get_last_error() == access_denied
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
