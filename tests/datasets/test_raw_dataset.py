"""KerasRawDataset: local sources, downloads, verification and the final error."""

import contextlib
import gzip
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError

from keras_classics.console import STDERR_TERMINAL_ENV
from keras_classics.datasets import DatasetUnavailableError, KerasRawDataset
from keras_classics.datasets.download import part_path
from tests.synthetic import (
    digit_like_images,
    md5,
    sha256,
    write_boston_npz,
    write_idx_gz,
    write_word_index,
)

BOSTON = "boston_housing.npz"
KERAS_BOSTON_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
BOSTON_STRUCTURE = {
    "arrays": {
        "x": {"dtype": "float64", "shape": [None, 13]},
        "y": {"dtype": "float64", "ndim": 1},
    }
}
FAST = {"timeout": 2, "retries": 2, "backoff": 0.01}
RAW = Path("data/01_raw")
IMAGES = "t10k-images-idx3-ubyte.gz"
IMAGES_STRUCTURE = {"idx": {"kind": "images", "dims": [None, 28, 28]}}
# Loads argv[1] from argv[2] (structure argv[3]), as a `kedro run` would.
LOAD_IN_A_SUBPROCESS = """
import json, sys
from keras_classics.datasets import KerasRawDataset
KerasRawDataset(
    filepath=sys.argv[1],
    urls=[sys.argv[2]],
    structure=json.loads(sys.argv[3]),
    download={"timeout": 60, "retries": 0},
).load()
"""


@pytest.fixture
def boston_file(tmp_path) -> Path:
    """A synthetic boston_housing.npz outside of every source."""
    path = tmp_path / "elsewhere" / BOSTON
    path.parent.mkdir()
    write_boston_npz(path)
    return path


def boston_dataset(**arguments) -> KerasRawDataset:
    return KerasRawDataset(
        **{
            "filepath": RAW / BOSTON,
            "structure": BOSTON_STRUCTURE,
            "download": FAST,
            **arguments,
        }
    )


def place(source: Path, folder: Path, name: str = BOSTON) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, folder / name))


def files_under(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file()
    )


def cache() -> Path:
    return Path.cwd() / "keras_home" / "datasets"


class TestDownload:
    def test_lands_verified_and_atomically_at_filepath(self, http_server, boston_file):
        url = http_server.serve(BOSTON, boston_file.read_bytes(), stall=0.3)
        seen = FolderWatcher(Path.cwd() / RAW)

        data = boston_dataset(urls=[url], file_hash=sha256(boston_file)).load()

        observed = seen.stop()
        np.testing.assert_array_equal(data["x"], np.load(boston_file)["x"])
        assert sha256(RAW / BOSTON) == sha256(boston_file)
        assert any(
            name.startswith(f".{BOSTON}.") and name.endswith(".part")
            for name, _ in observed
        )
        assert {size for name, size in observed if name == BOSTON} <= {
            boston_file.stat().st_size
        }
        assert files_under(Path.cwd()) == [
            f"data/01_raw/{BOSTON}",
            f"elsewhere/{BOSTON}",
        ]

    def test_truncated_body_is_retried_then_reported(self, http_server, boston_file):
        url = http_server.serve(BOSTON, boston_file.read_bytes(), truncate=True)
        size = boston_file.stat().st_size

        with pytest.raises(DatasetUnavailableError) as error:
            boston_dataset(urls=[url]).load()

        assert (
            f"truncated: received {size // 2} of {size} bytes (after 3 attempts)"
            in str(error.value)
        )
        assert http_server.hits[BOSTON] == 3
        assert files_under(Path.cwd() / "data") == []

    def test_wrong_hash_deletes_the_download(self, http_server, boston_file):
        url = http_server.serve(BOSTON, boston_file.read_bytes())

        with pytest.raises(DatasetUnavailableError) as error:
            boston_dataset(urls=[url], file_hash=KERAS_BOSTON_SHA256).load()

        assert (
            f"hash mismatch (file sha256 {sha256(boston_file)}): "
            f"expected sha256 {KERAS_BOSTON_SHA256}"
        ) in str(error.value)
        assert http_server.hits[BOSTON] == 1
        assert files_under(Path.cwd() / "data") == []

    def test_download_of_wrong_structure_is_deleted(self, http_server, tmp_path):
        path = tmp_path / "words.json"
        write_word_index(path, 5)
        url = http_server.serve(BOSTON, path.read_bytes())

        with pytest.raises(
            DatasetUnavailableError, match="corrupt: not a valid zip archive"
        ):
            boston_dataset(urls=[url]).load()

        assert files_under(Path.cwd() / "data") == []

    def test_404_is_not_retried(self, http_server, boston_file):
        url = http_server.serve(BOSTON, boston_file.read_bytes(), status=404)

        with pytest.raises(DatasetUnavailableError, match=r"HTTP 404 Not Found\n"):
            boston_dataset(urls=[url]).load()

        assert http_server.hits[BOSTON] == 1

    @pytest.mark.parametrize("terminal", [True, False])
    def test_progress_is_shown_on_a_terminal(
        self, http_server, boston_file, capfd, monkeypatch, terminal
    ):
        url = http_server.serve(BOSTON, boston_file.read_bytes())
        if terminal:  # as kedro run's filter says of a terminal behind it
            monkeypatch.setenv(STDERR_TERMINAL_ENV, "1")

        boston_dataset(urls=[url]).load()

        shown = capfd.readouterr().err
        size = f"{boston_file.stat().st_size / 1000:.2f}k"  # tqdm's bytes, scaled
        assert ("100%" in shown and f"{size}/{size}" in shown) == terminal, shown

    def test_500_is_retried_until_it_succeeds(self, http_server, boston_file):
        url = http_server.serve(
            BOSTON, boston_file.read_bytes(), status=500, failures=2
        )

        data = boston_dataset(urls=[url]).load()

        assert data["y"].shape == (60,)
        assert http_server.hits[BOSTON] == 3
        assert sha256(RAW / BOSTON) == sha256(boston_file)

    def test_persistent_500_fails_after_the_retries(self, http_server, boston_file):
        url = http_server.serve(BOSTON, boston_file.read_bytes(), status=500)

        with pytest.raises(
            DatasetUnavailableError,
            match=r"HTTP 500 Internal Server Error \(after 3 attempts\)",
        ):
            boston_dataset(urls=[url]).load()

        assert http_server.hits[BOSTON] == 3

    def test_connection_refused(self, http_closed_port):
        url = f"http://127.0.0.1:{http_closed_port}/{BOSTON}"

        with pytest.raises(DatasetUnavailableError) as error:
            boston_dataset(urls=[url]).load()

        assert f"download {url}: connection refused (after 3 attempts)" in str(
            error.value
        )
        assert files_under(Path.cwd()) == []

    def test_too_slow_server_times_out(self, http_server, boston_file):
        url = http_server.serve(BOSTON, boston_file.read_bytes(), stall=10)
        started = time.monotonic()

        with pytest.raises(DatasetUnavailableError, match=r"timed out after 0.3 s\n"):
            boston_dataset(urls=[url], download={"timeout": 0.3, "retries": 0}).load()

        assert time.monotonic() - started < 3
        assert files_under(Path.cwd() / "data") == []

    def test_falls_back_from_the_official_url_to_a_mirror_url(
        self, http_server, boston_file
    ):
        official = http_server.serve(f"official/{BOSTON}", b"", status=404)
        mirror = http_server.serve(f"mirror/{BOSTON}", boston_file.read_bytes())

        data = boston_dataset(
            urls=[official, mirror], file_hash=sha256(boston_file)
        ).load()

        assert data["x"].shape == (60, 13)
        assert http_server.hits[f"official/{BOSTON}"] == 1
        assert http_server.hits[f"mirror/{BOSTON}"] == 1

    def test_interrupt_removes_the_temporary_file(self, http_server, boston_file):
        url = http_server.serve(BOSTON, boston_file.read_bytes(), stall=10)
        during = []

        def interrupt(signum, frame):
            during.extend(files_under(Path.cwd() / "data"))
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        try:
            with pytest.raises(KeyboardInterrupt):
                boston_dataset(urls=[url], download={"timeout": 5, "retries": 0}).load()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

        assert [name for name in during if name.endswith(".part")]
        assert files_under(Path.cwd() / "data") == []

    def test_gzip_download_is_checked_against_content_md5(self, http_server, tmp_path):
        path = tmp_path / IMAGES
        write_idx_gz(path, digit_like_images(4)[0])
        url = http_server.serve(IMAGES, path.read_bytes())
        content = md5_of_content(path)

        def dataset(content_md5: str) -> KerasRawDataset:
            return KerasRawDataset(
                filepath=RAW / IMAGES,
                urls=[url],
                content_md5=content_md5,
                structure=IMAGES_STRUCTURE,
                download=FAST,
            )

        with pytest.raises(
            DatasetUnavailableError, match="expected md5 of the decompressed content"
        ):
            dataset("0" * 32).load()
        assert dataset(content).load().shape == (4, 28, 28)

    def test_word_index_is_checked_against_an_md5_file_hash(
        self, http_server, tmp_path
    ):
        path = tmp_path / "imdb_word_index.json"
        words = write_word_index(path, 7)
        url = http_server.serve(path.name, path.read_bytes())

        dataset = KerasRawDataset(
            filepath=RAW / path.name,
            urls=[url],
            file_hash=md5(path),
            structure={"json": "word_index"},
        )

        assert dataset.load() == words

    @pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX only")
    def test_next_download_removes_the_part_file_of_a_killed_download(
        self, http_server, tmp_path
    ):
        big = tmp_path / "big" / BOSTON
        big.parent.mkdir()
        write_boston_npz(big, n=8000)  # ~900 kB: half of it is several chunks
        body = big.read_bytes()
        url = http_server.serve(BOSTON, body, stall=60)
        folder = Path.cwd() / RAW
        downloading = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LOAD_IN_A_SUBPROCESS,
                str(RAW / BOSTON),
                url,
                json.dumps(BOSTON_STRUCTURE),
            ],
            cwd=Path.cwd(),
            stderr=subprocess.PIPE,
        )
        try:
            part = wait_for_part_file(folder, downloading, min_size=1 << 16)
        finally:
            os.kill(downloading.pid, signal.SIGKILL)
            downloading.wait()  # reaped: its PID names no process
        assert downloading.returncode == -signal.SIGKILL

        written = part.read_bytes()
        assert 1 << 16 <= len(written) <= len(body) // 2
        assert body.startswith(written)
        assert files_under(folder) == [part.name]

        http_server.serve(BOSTON, body)  # the server is fine again
        data = boston_dataset(urls=[url], file_hash=sha256(big)).load()

        np.testing.assert_array_equal(data["x"], np.load(big)["x"])
        assert sha256(RAW / BOSTON) == sha256(big)
        assert not part.exists()
        assert files_under(folder) == [BOSTON]
        assert http_server.hits[BOSTON] == 2

    def test_next_download_leaves_part_files_of_live_processes_alone(
        self, http_server, boston_file
    ):
        target = Path.cwd() / RAW / BOSTON
        target.parent.mkdir(parents=True)
        sleeping = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"]
        )
        try:
            finished = subprocess.Popen([sys.executable, "-c", ""])
            finished.wait()  # reaped: its PID names no process (and is not sleeping's)
            dead = part_path(target, finished.pid)
            live = part_path(target, sleeping.pid)
            own = part_path(target, os.getpid())
            other_target = part_path(target.with_name("other.npz"), finished.pid)
            for number, path in enumerate((dead, live, own, other_target)):
                path.write_bytes(f"half a download {number}".encode())
            url = http_server.serve(BOSTON, boston_file.read_bytes())

            data = boston_dataset(urls=[url], file_hash=sha256(boston_file)).load()

            left = files_under(target.parent)
            assert sleeping.poll() is None  # still alive while the download ran
        finally:
            sleeping.kill()
            sleeping.wait()
        assert data["x"].shape == (60, 13)
        assert sha256(target) == sha256(boston_file)
        assert left == sorted(path.name for path in (target, live, own, other_target))
        assert live.read_bytes() == b"half a download 1"
        assert own.read_bytes() == b"half a download 2"
        assert other_target.read_bytes() == b"half a download 3"


class TestLocalSources:
    @pytest.mark.parametrize(
        "source", ["filepath", "cache", "mirror_env", "mirror_arg"]
    )
    def test_each_source_is_read_in_place(
        self, source, boston_file, http_server, monkeypatch
    ):
        folder = {
            "filepath": Path.cwd() / RAW,
            "cache": cache(),
            "mirror_env": Path.cwd() / "mirror",
            "mirror_arg": Path.cwd() / "mirror",
        }[source]
        placed = place(boston_file, folder)
        if source == "mirror_env":
            monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(folder))
        url = http_server.serve(BOSTON, b"never downloaded")

        data = boston_dataset(
            urls=[url],
            file_hash=sha256(boston_file),
            mirror="mirror" if source == "mirror_arg" else None,
        ).load()

        assert data["x"].shape == (60, 13)
        assert http_server.hits[BOSTON] == 0
        assert files_under(Path.cwd()) == sorted(
            [placed.relative_to(Path.cwd()).as_posix(), f"elsewhere/{BOSTON}"]
        )

    def test_subdir_applies_to_the_cache_and_the_mirror(self, tmp_path, monkeypatch):
        images = tmp_path / IMAGES
        write_idx_gz(images, digit_like_images(3)[0])
        dataset = KerasRawDataset(
            filepath=RAW / "fashion-mnist" / IMAGES,
            subdir="fashion-mnist",
            structure=IMAGES_STRUCTURE,
        )
        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(tmp_path / "mirror"))

        in_mirror = place(images, tmp_path / "mirror" / "fashion-mnist", IMAGES)
        assert dataset.load().shape == (3, 28, 28)
        in_mirror.unlink()
        place(images, cache() / "fashion-mnist", IMAGES)
        assert dataset.load().shape == (3, 28, 28)

    def test_sources_are_tried_in_order(self, monkeypatch):
        folders = [Path.cwd() / RAW, cache(), Path.cwd() / "mirror"]
        for rows, folder in zip((10, 20, 30), folders, strict=True):
            folder.mkdir(parents=True)
            write_boston_npz(folder / BOSTON, n=rows)
        dataset = boston_dataset(mirror="mirror")

        for rows, folder in zip((10, 20, 30), folders, strict=True):
            assert len(dataset.load()["y"]) == rows
            (folder / BOSTON).unlink()

    def test_environment_mirror_overrides_the_configured_one(self, monkeypatch):
        for rows, folder in ((10, "conf_mirror"), (20, "env_mirror")):
            (Path.cwd() / folder).mkdir()
            write_boston_npz(Path.cwd() / folder / BOSTON, n=rows)
        dataset = boston_dataset(mirror="conf_mirror")

        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(Path.cwd() / "env_mirror"))
        assert len(dataset.load()["y"]) == 20
        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", "")
        assert len(dataset.load()["y"]) == 10

    def test_bad_local_file_is_reported_skipped_and_left_alone(
        self, boston_file, monkeypatch, caplog
    ):
        bad = Path.cwd() / RAW / BOSTON
        bad.parent.mkdir(parents=True)
        bad.write_bytes(boston_file.read_bytes()[:1000])
        place(boston_file, Path.cwd() / "mirror")
        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(Path.cwd() / "mirror"))
        caplog.set_level(logging.INFO, logger="keras_classics.datasets")

        data = boston_dataset(file_hash=sha256(boston_file)).load()

        assert data["y"].shape == (60,)
        [warning] = [
            r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
        ]
        assert str(bad) in warning
        assert f"file sha256 {sha256(bad)}" in warning
        assert f"expected sha256 {sha256(boston_file)}" in warning
        assert f"from mirror {Path.cwd() / 'mirror' / BOSTON}" in caplog.text
        assert bad.stat().st_size == 1000

    def test_file_with_wrong_structure_is_reported_with_its_hash(self, boston_file):
        bad = Path.cwd() / RAW / BOSTON
        bad.parent.mkdir(parents=True)
        np.savez(bad, x=np.zeros((3, 13)), y=np.zeros(3, dtype=np.float32))

        with pytest.raises(DatasetUnavailableError) as error:
            boston_dataset().load()

        assert (
            f"filepath {bad}: corrupt: array 'y' has dtype float32, expected float64 "
            f"(file sha256 {sha256(bad)})"
        ) in str(error.value)

    def test_keras_cache_is_never_written_to(self, boston_file, http_server):
        cached = cache() / BOSTON
        cached.parent.mkdir(parents=True)
        cached.write_bytes(b"damaged")
        url = http_server.serve(BOSTON, boston_file.read_bytes())

        boston_dataset(urls=[url], file_hash=sha256(boston_file)).load()

        assert cached.read_bytes() == b"damaged"
        assert files_under(cache()) == [BOSTON]
        assert sha256(RAW / BOSTON) == sha256(boston_file)


class TestChecksums:
    def test_sha256sums_listing_accepts_a_repacked_copy(
        self, boston_file, monkeypatch, caplog
    ):
        mirror = Path.cwd() / "mirror"
        place(boston_file, mirror)
        (mirror / "SHA256SUMS").write_text(
            f"{'0' * 64}  other.npz\n{sha256(boston_file)}  {BOSTON}\n"
        )
        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(mirror))
        caplog.set_level(logging.INFO, logger="keras_classics.datasets")

        data = boston_dataset(file_hash=KERAS_BOSTON_SHA256).load()

        assert data["x"].shape == (60, 13)
        assert f"(sha256 listed in {mirror / 'SHA256SUMS'})" in caplog.text

    def test_sha256sums_listing_another_hash_is_a_mismatch(
        self, boston_file, monkeypatch
    ):
        mirror = Path.cwd() / "mirror"
        place(boston_file, mirror)
        (mirror / "SHA256SUMS").write_text(f"{'ab' * 32} *{BOSTON}\n")
        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(mirror))

        with pytest.raises(DatasetUnavailableError) as error:
            boston_dataset(file_hash=KERAS_BOSTON_SHA256).load()

        message = str(error.value)
        assert f"expected sha256 {KERAS_BOSTON_SHA256}" in message
        assert (
            f"expected sha256 listed in {mirror / 'SHA256SUMS'} {'ab' * 32}" in message
        )
        assert f"file sha256 {sha256(boston_file)}" in message

    def test_content_md5_accepts_a_regzipped_copy(self, tmp_path):
        original = tmp_path / IMAGES
        images = digit_like_images(5)[0]
        write_idx_gz(original, images)
        repacked = Path.cwd() / RAW / IMAGES
        repacked.parent.mkdir(parents=True)
        repacked.write_bytes(
            gzip.compress(gzip.decompress(original.read_bytes()), 1, mtime=0)
        )
        assert sha256(repacked) != sha256(original)

        dataset = KerasRawDataset(
            filepath=RAW / IMAGES,
            content_md5=md5_of_content(original),
            structure=IMAGES_STRUCTURE,
        )

        np.testing.assert_array_equal(dataset.load(), images)

    def test_without_any_checksum_structure_decides_with_a_warning(
        self, boston_file, caplog
    ):
        place(boston_file, Path.cwd() / RAW)
        caplog.set_level(logging.WARNING, logger="keras_classics.datasets")

        assert boston_dataset().load()["x"].shape == (60, 13)
        assert "No checksum configured or listed" in caplog.text


class TestFailure:
    def test_single_error_lists_every_place_and_what_to_do(
        self, http_server, http_closed_port
    ):
        official = http_server.serve(f"official/{BOSTON}", b"", status=404)
        refused = f"http://127.0.0.1:{http_closed_port}/{BOSTON}"
        dataset = boston_dataset(
            urls=[official, refused],
            file_hash=KERAS_BOSTON_SHA256,
            download={"retries": 0},
        )

        with pytest.raises(DatasetUnavailableError) as error:
            dataset.load()

        assert isinstance(error.value, DatasetError)
        message = str(error.value)
        filepath = Path.cwd() / RAW / BOSTON
        for expected in (
            f"filepath {filepath}: missing",
            f"Keras cache {cache() / BOSTON}: missing",
            "mirror: none configured (KERAS_CLASSICS_MIRROR unset, no `mirror`)",
            f"download {official}: HTTP 404 Not Found",
            f"download {refused}: connection refused",
            f"To fix this, download {official}\n  (or {refused})",
            f"save it as {filepath}",
            f"(expected sha256 {KERAS_BOSTON_SHA256})",
            f"Or set KERAS_CLASSICS_MIRROR to a folder holding {BOSTON}.",
        ):
            assert expected in message
        places = [
            "filepath ",
            "Keras cache ",
            "mirror: ",
            f"download {official}",
            f"download {refused}",
        ]
        positions = [message.index(f"  - {place}") for place in places]
        assert positions == sorted(positions)

    def test_offline_without_mirror_fails_fast_and_leaves_nothing(self):
        started = time.monotonic()

        with pytest.raises(DatasetUnavailableError, match="host not found"):
            boston_dataset(
                urls=[f"http://keras-classics.invalid/{BOSTON}"], download={}
            ).load()

        assert time.monotonic() - started < 10
        assert files_under(Path.cwd()) == []

    def test_error_without_urls_or_checksum_says_so(self):
        with pytest.raises(DatasetUnavailableError) as error:
            boston_dataset().load()

        message = str(error.value)
        assert "download: no URL configured" in message
        assert f"To fix this, get {BOSTON}" in message
        assert "no checksum is configured" in message


class TestDatasetInterface:
    def test_save_is_refused(self):
        with pytest.raises(DatasetError, match="read-only"):
            boston_dataset().save({"x": np.zeros(1)})

    def test_exists_looks_at_local_sources_only(self, boston_file, http_server):
        url = http_server.serve(BOSTON, boston_file.read_bytes())
        dataset = boston_dataset(urls=[url])

        assert not dataset.exists()
        place(boston_file, cache())
        assert dataset.exists()
        assert http_server.hits[BOSTON] == 0

    def test_describe_returns_the_configuration(self):
        dataset = boston_dataset(
            urls=["http://host/x.npz"],
            file_hash=KERAS_BOSTON_SHA256,
            metadata={"kedro-viz": {"layer": "raw"}},
        )

        assert dataset._describe() == {
            "filepath": str(RAW / BOSTON),
            "subdir": None,
            "file_hash": KERAS_BOSTON_SHA256,
            "content_md5": None,
            "urls": ["http://host/x.npz"],
            "mirror": None,
            "structure": BOSTON_STRUCTURE,
            "download": FAST,
        }
        assert dataset.metadata == {"kedro-viz": {"layer": "raw"}}

    @pytest.mark.parametrize(
        ("arguments", "complaint"),
        [
            ({"filepath": "data/x.csv"}, "Unsupported file type '.csv'"),
            ({"file_hash": "abc"}, "Invalid 'file_hash'"),
            ({"content_md5": "0" * 32}, "Invalid 'content_md5'"),
            ({"urls": "http://host/x.npz"}, "'urls' must be a list"),
            ({"subdir": "../up"}, "'subdir' must be a relative folder"),
            ({"download": {"timeout": 0}}, "Invalid download options"),
            ({"download": {"retry": 1}}, "unknown keys"),
            ({"structure": {"json": "word_index"}}, "Invalid structure"),
            ({"structure": {"arrays": {"x": {"dtype": "nope"}}}}, "Invalid structure"),
            (
                {"structure": {"arrays": {"x": {"ndim": 2, "shape": [None]}}}},
                "contradicts",
            ),
            (
                {
                    "filepath": "a.gz",
                    "structure": {"idx": {"kind": "images", "dims": [None]}},
                },
                "3 dims",
            ),
            (
                {"filepath": "a.json", "structure": {"json": "other"}},
                "only 'word_index'",
            ),
        ],
    )
    def test_invalid_configuration_is_refused(self, arguments, complaint):
        with pytest.raises(DatasetError, match=complaint):
            boston_dataset(**arguments)


class FolderWatcher:
    """Records (name, size) of the files in a folder, polled in a thread."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: set[tuple[str, int]] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.wait(0.005):
            if self.folder.is_dir():
                for path in self.folder.iterdir():
                    with contextlib.suppress(FileNotFoundError):
                        self.seen.add((path.name, path.stat().st_size))

    def stop(self) -> set[tuple[str, int]]:
        self._done.set()
        self._thread.join()
        return self.seen


def wait_for_part_file(
    folder: Path, process: subprocess.Popen, min_size: int, timeout: float = 60
) -> Path:
    """The ``.part`` file ``process`` downloads into, once it holds ``min_size``
    bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the download ended early: {process.stderr.read().decode()}")
        for part in folder.glob(f".{BOSTON}.{process.pid}.*.part"):
            with contextlib.suppress(FileNotFoundError):
                if part.stat().st_size >= min_size:
                    return part
        time.sleep(0.02)
    pytest.fail(f"no .part file of {min_size} bytes in {folder} after {timeout} s")


def md5_of_content(path: Path) -> str:
    return hashlib.md5(gzip.decompress(path.read_bytes())).hexdigest()
