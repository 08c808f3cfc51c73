"""Raw IMDB reviews (aclImdb): streaming tar.gz, extracted folder, KerasRawDataset."""

import logging
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, DatasetError

from keras_classics.datasets import DatasetUnavailableError, KerasRawDataset
from keras_classics.datasets.errors import CorruptFileError
from keras_classics.datasets.structure import file_format
from tests.project import REAL_DATASETS, REPO, needs_real_data
from tests.synthetic import sha256, write_aclimdb_tar

ARCHIVE = "aclImdb_v1.tar.gz"
RAW = Path("data/01_raw")
ANY_COUNT = {"reviews": None}
KEYS = ["train_texts", "train_labels", "test_texts", "test_labels"]


def read(path: Path, structure: dict | None = None) -> dict[str, np.ndarray]:
    return file_format(path, structure).read(path)


def assert_same(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
    assert list(left) == list(right)
    for key, array in left.items():
        assert array.dtype == right[key].dtype
        np.testing.assert_array_equal(array, right[key])


def extract(archive: Path, folder: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "aclImdb"


@pytest.fixture
def archive(tmp_path) -> Path:
    path = tmp_path / ARCHIVE
    write_aclimdb_tar(path, 3)
    return path


class TestArchive:
    def test_pos_then_neg_in_file_name_order(self, tmp_path):
        path = tmp_path / ARCHIVE
        written = write_aclimdb_tar(path, 12)  # 12 files: "10_9.txt" < "2_9.txt"

        data = read(path, {"reviews": {"train": 24, "test": 24}})

        assert list(data) == KEYS
        names = ["0_7", "10_9", "11_10", "1_8", "2_9", "3_10", "4_7", "5_8", "6_9"]
        for split in ("train", "test"):
            texts, labels = data[f"{split}_texts"], data[f"{split}_labels"]
            assert texts.dtype == object and texts.shape == (24,)
            assert all(type(text) is str for text in texts)
            assert labels.dtype == np.int64
            assert labels.tolist() == [1] * 12 + [0] * 12
            for position, name in enumerate(names):
                assert texts[position] == written[f"aclImdb/{split}/pos/{name}.txt"]
            assert texts[12] == written[f"aclImdb/{split}/neg/0_1.txt"]
            assert texts[13] == written[f"aclImdb/{split}/neg/10_3.txt"]
        assert data["train_texts"][0] != data["test_texts"][0]

    def test_texts_are_decoded_as_utf8_unchanged(self, tmp_path):
        text = "Amélie, naïve & «charmante» — ★★★★★ 映画 🎬\r\nSecond line<br />"
        path = tmp_path / ARCHIVE
        name = "aclImdb/train/pos/99_10.txt"
        write_aclimdb_tar(path, 2, extra_members={name: text.encode()})

        data = read(path)

        assert data["train_texts"][2] == text  # after 0_7.txt and 1_8.txt

    def test_non_utf8_review_is_corrupt(self, tmp_path):
        path = tmp_path / ARCHIVE
        name = "aclImdb/test/neg/7_2.txt"
        write_aclimdb_tar(path, 2, extra_members={name: "très".encode("latin-1")})

        with pytest.raises(CorruptFileError, match=f"review '{name}' is not UTF-8"):
            read(path)

    def test_unsup_readme_vocab_and_other_files_are_ignored(self, tmp_path):
        plain = tmp_path / "plain" / ARCHIVE
        plain.parent.mkdir()
        write_aclimdb_tar(plain, 3)
        path = tmp_path / ARCHIVE
        extra = {
            "aclImdb/imdbEr.txt": b"0.1\n",
            "aclImdb/train/labeledBow.feat": b"0 0:1\n",
            "aclImdb/train/urls_pos.txt": b"http://www.imdb.com/title/tt0453418/\n",
            "aclImdb/train/pos/notes.md": b"not a review",
            "aclImdb/train/pos/extra/5_9.txt": b"too deep",
            "elsewhere/train/pos/5_9.txt": b"outside aclImdb",
            "aclImdb/test/pos/8_9.txt/": tarfile.TarInfo(),  # a folder named *.txt
        }
        extra["aclImdb/test/pos/8_9.txt/"].type = tarfile.DIRTYPE

        write_aclimdb_tar(path, 3, unsup=20, extra_members=extra)

        assert_same(read(path, {"reviews": {"train": 6, "test": 6}}), read(plain))

    @pytest.mark.parametrize(
        ("name", "kind", "complaint"),
        [
            ("/tmp/evil.txt", tarfile.REGTYPE, "path escapes"),
            ("aclImdb/../../evil.txt", tarfile.REGTYPE, "path escapes"),
            ("aclImdb/train/pos/../../../x", tarfile.DIRTYPE, "path escapes"),
            ("aclImdb/train/pos/9_9.txt", tarfile.SYMTYPE, "symbolic link to '/etc"),
            ("aclImdb/README2", tarfile.LNKTYPE, "hard link to '/etc/passwd'"),
            ("aclImdb/train/pos/9_9.txt", tarfile.CHRTYPE, "device"),
            ("aclImdb/dev", tarfile.BLKTYPE, "device"),
            ("aclImdb/test/neg/9_1.txt", tarfile.FIFOTYPE, "FIFO"),
        ],
    )
    def test_unsafe_member_is_refused(self, tmp_path, name, kind, complaint):
        member = tarfile.TarInfo()
        member.type = kind
        member.linkname = (
            "/etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
        )
        path = tmp_path / ARCHIVE
        write_aclimdb_tar(path, 2, extra_members={name: member})

        with pytest.raises(CorruptFileError) as error:
            read(path)

        assert error.value.problem.startswith(f"unsafe member {name.rstrip('/')!r}")
        assert complaint in error.value.problem

    @pytest.mark.parametrize(
        "damage",
        ["cut_in_half", "cut_gzip_trailer", "flip_crc", "flip_data", "not_gzip"],
    )
    def test_damaged_archive_is_refused(self, archive, damage):
        content = bytearray(archive.read_bytes())
        if damage == "cut_in_half":
            content = content[: len(content) // 2]
        elif damage == "cut_gzip_trailer":
            content = content[:-8]
        elif damage == "flip_crc":
            content[-8] ^= 0xFF
        elif damage == "flip_data":
            content[len(content) // 2] ^= 0xFF
        else:
            content = b"PK\x03\x04" + content
        archive.write_bytes(bytes(content))

        with pytest.raises(CorruptFileError) as error:
            read(archive)

        if damage != "flip_data":  # a flipped byte may first break a review's UTF-8
            assert error.value.problem.startswith("damaged tar.gz archive: ")

    def test_missing_archive_stays_file_not_found(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            read(tmp_path / ARCHIVE)

    def test_duplicate_review_is_refused(self, tmp_path):
        path = tmp_path / ARCHIVE
        name = "aclImdb/train/neg/0_1.txt"
        write_aclimdb_tar(path, 2, extra_members={f"./{name}": b"Twice."})

        with pytest.raises(CorruptFileError, match=f"{name}' appears twice"):
            read(path)

    def test_tgz_suffix_is_the_same_format(self, archive, tmp_path):
        tgz = Path(shutil.copy(archive, tmp_path / "aclImdb.tgz"))

        assert_same(read(tgz), read(archive))


class TestStructure:
    @pytest.mark.parametrize(
        ("counts", "complaint"),
        [
            (
                {"train": 6, "test": 7},
                r"split 'test' has 6 reviews \(3 pos, 3 neg\), expected 7",
            ),
            (
                {"train": 25000, "test": 25000},
                r"split 'train' has 6 reviews \(3 pos, 3 neg\), expected 25000",
            ),
        ],
    )
    def test_count_mismatch_is_refused(self, archive, counts, complaint):
        with pytest.raises(CorruptFileError, match=complaint):
            read(archive, {"reviews": counts})

    def test_each_split_needs_both_labels(self, archive, tmp_path):
        folder = extract(archive, tmp_path / "extracted")
        shutil.rmtree(folder / "test" / "neg")

        with pytest.raises(
            CorruptFileError,
            match=r"split 'test' has 3 reviews \(3 pos, 0 neg\), needs both labels",
        ):
            read(folder, {"reviews": {"train": 6, "test": None}})

    @pytest.mark.parametrize(
        "structure",
        [
            {"reviews": {"valid": 5}},
            {"reviews": {"train": 1}},
            {"reviews": {"train": "25000"}},
            {"reviews": {"train": True}},
            {"reviews": [25000, 25000]},
            {"arrays": {}},
        ],
    )
    def test_invalid_structure_is_refused(self, structure):
        with pytest.raises(DatasetError, match="Invalid structure"):
            file_format(Path(ARCHIVE), structure)

    def test_a_folder_needs_a_reviews_structure(self):
        with pytest.raises(DatasetError, match="or a folder of IMDB reviews"):
            file_format(Path("aclImdb"), None)


class TestFolder:
    def test_extracted_folder_equals_the_archive(self, tmp_path):
        path = tmp_path / ARCHIVE
        write_aclimdb_tar(path, 12, unsup=10, extra_members={"aclImdb/x.feat": b""})
        folder = extract(path, tmp_path / "extracted")
        assert (folder / "train" / "unsup").is_dir()

        from_folder = read(folder, {"reviews": {"train": 24, "test": 24}})

        assert_same(from_folder, read(path))

    @pytest.mark.parametrize("is_file", [False, True])
    def test_missing_folder_or_a_file_is_an_os_error(self, tmp_path, is_file):
        path = tmp_path / "aclImdb"
        if is_file:
            path.write_text("not a folder")

        with pytest.raises(NotADirectoryError if is_file else FileNotFoundError):
            read(path, ANY_COUNT)


class TestKerasRawDataset:
    def test_loads_the_archive_from_a_mirror_with_sha256sums(
        self, archive, monkeypatch, caplog
    ):
        mirror = Path.cwd() / "mirror"
        mirror.mkdir()
        shutil.copy(archive, mirror / ARCHIVE)
        (mirror / "SHA256SUMS").write_text(f"{sha256(archive)}  {ARCHIVE}\n")
        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(mirror))
        caplog.set_level(logging.INFO, logger="keras_classics.datasets")
        dataset = KerasRawDataset(
            filepath=RAW / ARCHIVE, structure={"reviews": {"train": 6, "test": 6}}
        )

        assert_same(dataset.load(), read(archive))
        assert f"from mirror {mirror / ARCHIVE}" in caplog.text
        assert f"(sha256 listed in {mirror / 'SHA256SUMS'})" in caplog.text
        assert not (Path.cwd() / RAW).exists()

        (mirror / "SHA256SUMS").write_text(f"{'0' * 64}  {ARCHIVE}\n")
        with pytest.raises(DatasetUnavailableError, match="hash mismatch"):
            dataset.load()

    def test_damaged_archive_is_skipped_for_the_next_source(self, archive, monkeypatch):
        damaged = Path.cwd() / RAW / ARCHIVE
        damaged.parent.mkdir(parents=True)
        damaged.write_bytes(archive.read_bytes()[:-8])
        mirror = Path.cwd() / "mirror"
        mirror.mkdir()
        shutil.copy(archive, mirror / ARCHIVE)
        monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(mirror))

        data = KerasRawDataset(filepath=RAW / ARCHIVE, structure=ANY_COUNT).load()

        assert data["train_texts"].shape == (6,)

    def test_downloads_the_archive(self, archive, http_server):
        url = http_server.serve(ARCHIVE, archive.read_bytes())

        data = KerasRawDataset(
            filepath=RAW / ARCHIVE,
            urls=[url],
            file_hash=sha256(archive),
            structure=ANY_COUNT,
            download={"retries": 0},
        ).load()

        assert data["test_labels"].tolist() == [1, 1, 1, 0, 0, 0]
        assert sha256(RAW / ARCHIVE) == sha256(archive)

    def test_loads_an_extracted_folder_without_checksums(self, archive, caplog):
        folder = extract(archive, Path.cwd() / RAW)
        caplog.set_level(logging.INFO, logger="keras_classics.datasets")
        dataset = KerasRawDataset(filepath=RAW / "aclImdb", structure=ANY_COUNT)

        assert dataset.exists()
        assert_same(dataset.load(), read(archive))
        assert (
            f"Loaded aclImdb from filepath {folder} "
            "(structure only: checksums do not apply to a folder)"
        ) in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    def test_finds_an_extracted_folder_in_the_keras_cache(self, archive):
        extract(archive, Path.cwd() / "keras_home" / "datasets")
        dataset = KerasRawDataset(filepath=RAW / "aclImdb", structure=ANY_COUNT)

        assert dataset.load()["train_labels"].shape == (6,)

    def test_missing_folder_is_reported_as_missing(self):
        dataset = KerasRawDataset(filepath=RAW / "aclImdb", structure=ANY_COUNT)

        assert not dataset.exists()
        with pytest.raises(DatasetUnavailableError, match="aclImdb: missing"):
            dataset.load()

    @pytest.mark.parametrize(
        "argument",
        [
            {"urls": ["http://host/aclImdb_v1.tar.gz"]},
            {"file_hash": "0" * 64},
        ],
    )
    def test_a_folder_takes_no_urls_or_checksums(self, argument):
        with pytest.raises(DatasetError, match="is a folder: it takes no 'urls'"):
            KerasRawDataset(filepath=RAW / "aclImdb", structure=ANY_COUNT, **argument)


@pytest.fixture(scope="module")
def catalog() -> DataCatalog:
    loader = OmegaConfigLoader(
        conf_source=str(REPO / "conf"),
        base_env="base",
        default_run_env="local",
        config_patterns={"raw_catalog": ["catalog_raw*"]},
    )
    return DataCatalog.from_config(
        {"aclimdb_raw": loader["raw_catalog"]["aclimdb_raw"]}
    )


def test_catalog_entry(catalog):
    dataset = catalog["aclimdb_raw"]

    assert isinstance(dataset, KerasRawDataset)
    assert dataset.metadata == {"kedro-viz": {"layer": "raw"}}
    assert dataset._describe() == {
        "filepath": f"data/01_raw/{ARCHIVE}",
        "subdir": None,
        "file_hash": None,
        "content_md5": None,
        "urls": [f"https://ai.stanford.edu/~amaas/data/sentiment/{ARCHIVE}"],
        "mirror": None,
        "structure": {"reviews": {"train": 25000, "test": 25000}},
        "download": {"timeout": 60, "retries": 3, "backoff": 1.0},
    }


@needs_real_data(ARCHIVE)
def test_real_archive_from_the_shared_mirror(catalog, monkeypatch, caplog):
    monkeypatch.setenv("KERAS_CLASSICS_MIRROR", str(REAL_DATASETS))
    caplog.set_level(logging.INFO, logger="keras_classics.datasets")

    data = catalog.load("aclimdb_raw")

    assert "sha256 listed in" in caplog.text
    for split in ("train", "test"):
        assert data[f"{split}_texts"].shape == (25000,)
        assert np.bincount(data[f"{split}_labels"]).tolist() == [12500, 12500]
        assert data[f"{split}_labels"][:12500].all()
    # train/pos/0_9.txt, train/neg/0_3.txt, test/pos/0_10.txt (see SOURCES.md)
    assert data["train_texts"][0].startswith("Bromwell High is a cartoon comedy")
    assert data["train_texts"][12500].startswith("Story of a man who has unnatural")
    assert data["test_texts"][0].startswith("I went and saw this movie last night")
