"""ZIP safety: every malicious or broken archive gets its code before extraction, and no file stays."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from dicom_support.builders import (
    corrupt_first_member,
    write_series,
    zip_entries,
    zip_folder,
    zip_with_encrypted_flag,
    zip_with_symlink,
)
from medskills.core.errors import StudyError
from medskills.dicom import AnySeriesPolicy, ArchiveLimits, DicomErrorCode, copy_stream_capped, inspect_zip, read_dicom_zip

LIMITS = ArchiveLimits(max_entries=1000, max_uncompressed_bytes=50_000_000, max_compression_ratio=100.0)


@pytest.fixture
def work_root(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root


def _code(zip_path: Path, work_root: Path, limits: ArchiveLimits = LIMITS) -> str:
    with pytest.raises(StudyError) as caught:
        read_dicom_zip(zip_path, limits=limits, work_root=work_root, policy=AnySeriesPolicy(min_slices=20))
    assert list(work_root.iterdir()) == [], "temporary files were left behind"
    return caught.value.error_code


def test_a_valid_series_zip_is_read_and_the_work_folder_is_emptied(tmp_path: Path, series_dir: Path,
                                                                  work_root: Path) -> None:
    archive = zip_folder(series_dir, tmp_path / "study.zip")
    series = read_dicom_zip(archive, limits=LIMITS, work_root=work_root)
    assert series.volume.shape == (20, 24, 24) and list(work_root.iterdir()) == []


def test_a_zip_bomb_by_ratio_is_refused(tmp_path: Path, work_root: Path) -> None:
    bomb = zip_entries(tmp_path / "bomb.zip", [("a.dcm", b"\0" * 20_000_000)])
    assert _code(bomb, work_root) == DicomErrorCode.ZIP_BOMB


def test_the_total_uncompressed_size_is_capped(tmp_path: Path, work_root: Path) -> None:
    archive = zip_entries(tmp_path / "big.zip", [(f"{i}.dcm", bytes(range(256)) * 400) for i in range(3)],
                          compression=zipfile.ZIP_STORED)
    limits = ArchiveLimits(max_uncompressed_bytes=200_000)
    assert _code(archive, work_root, limits) == DicomErrorCode.ZIP_TOO_LARGE


@pytest.mark.parametrize("name", ["../evil.dcm", "a/../../evil.dcm", "/etc/evil.dcm", "C:/evil.dcm"])
def test_path_traversal_and_absolute_paths_are_refused(tmp_path: Path, work_root: Path, name: str) -> None:
    archive = zip_entries(tmp_path / "slip.zip", [(name, b"x")])
    assert _code(archive, work_root) == DicomErrorCode.ZIP_PATH_TRAVERSAL
    assert not (tmp_path / "evil.dcm").exists()


def test_symlinks_are_refused(tmp_path: Path, work_root: Path) -> None:
    assert _code(zip_with_symlink(tmp_path / "link.zip"), work_root) == DicomErrorCode.ZIP_SYMLINK


def test_encrypted_entries_are_refused(tmp_path: Path, work_root: Path) -> None:
    assert _code(zip_with_encrypted_flag(tmp_path / "enc.zip"), work_root) == DicomErrorCode.ZIP_ENCRYPTED


def test_duplicate_names_are_refused(tmp_path: Path, work_root: Path) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("a.dcm", b"1")
        with pytest.warns(UserWarning):
            handle.writestr("a.dcm", b"2")
    assert _code(archive, work_root) == DicomErrorCode.ZIP_DUPLICATE_NAMES


def test_a_hundred_thousand_entries_are_refused_before_extraction(tmp_path: Path, work_root: Path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as handle:
        for index in range(100_000):
            handle.writestr(zipfile.ZipInfo(f"{index}"), b"")
    limits = ArchiveLimits()  # the production default
    assert _code(archive, work_root, limits) == DicomErrorCode.ZIP_TOO_MANY_ENTRIES


def test_not_a_zip_is_refused(tmp_path: Path, work_root: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"this is not a zip")
    assert _code(fake, work_root) == DicomErrorCode.ZIP_INVALID


def test_only_non_dicom_files_give_no_dicom_series(tmp_path: Path, work_root: Path) -> None:
    archive = zip_entries(tmp_path / "docs.zip", [("report.pdf", b"%PDF-1.4"), ("notes.txt", b"hello")])
    assert _code(archive, work_root) == DicomErrorCode.NO_DICOM_SERIES


def test_nested_archives_are_ignored_and_reported(tmp_path: Path, series_dir: Path, work_root: Path) -> None:
    inner = zip_entries(tmp_path / "inner.zip", [("x.dcm", b"x")])
    (series_dir / "old").mkdir()
    (series_dir / "old" / "inner.zip").write_bytes(inner.read_bytes())
    (series_dir / "renamed.dat").write_bytes(inner.read_bytes())
    series = read_dicom_zip(zip_folder(series_dir, tmp_path / "s.zip"), limits=LIMITS, work_root=work_root)
    assert set(series.nested_archives) == {"old/inner.zip", "renamed.dat"}
    assert series.volume.shape[2] == 24


def test_a_truncated_slice_in_the_zip_is_reported(tmp_path: Path, series_dir: Path, work_root: Path) -> None:
    victim = sorted(series_dir.iterdir())[3]
    victim.write_bytes(victim.read_bytes()[:-500])
    with pytest.raises(StudyError) as caught:
        read_dicom_zip(zip_folder(series_dir, tmp_path / "t.zip"), limits=LIMITS, work_root=work_root)
    assert caught.value.error_code == DicomErrorCode.TRUNCATED_FILE
    assert str(caught.value).startswith(f"{victim.name}: pixel data could not be decoded")  # the name in the ZIP


def test_a_zip_member_with_corrupt_compressed_data_is_refused_as_zip_invalid(tmp_path: Path, series_dir: Path,
                                                                            work_root: Path) -> None:
    archive = corrupt_first_member(zip_folder(series_dir, tmp_path / "c.zip"))
    with pytest.raises(StudyError) as caught:
        read_dicom_zip(archive, limits=LIMITS, work_root=work_root)
    assert caught.value.error_code == DicomErrorCode.ZIP_INVALID
    assert "cannot be extracted" in str(caught.value) and "corrupt" in str(caught.value)
    assert list(work_root.iterdir()) == []


def test_two_series_plus_a_localizer_in_a_zip(tmp_path: Path, work_root: Path) -> None:
    folder = tmp_path / "multi"
    folder.mkdir()
    write_series(folder, series_uid="1.1", kernel="B30f", prefix="soft")
    write_series(folder, series_uid="1.2", kernel="FC52", slices=30, prefix="lung")
    write_series(folder, series_uid="1.3", slices=2, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"), prefix="loc")
    series = read_dicom_zip(zip_folder(folder, tmp_path / "m.zip"), limits=LIMITS, work_root=work_root)
    assert series.selection.chosen_series_uid == "1.2" and len(series.selection.candidates) == 3
    assert list(work_root.iterdir()) == []


def test_a_missing_slice_in_a_zip(tmp_path: Path, work_root: Path) -> None:
    folder = tmp_path / "gap"
    folder.mkdir()
    write_series(folder, skip=(7, 8))
    assert _code(zip_folder(folder, tmp_path / "g.zip"), work_root) == DicomErrorCode.MISSING_SLICES


def test_mixed_orientations_in_a_zip(tmp_path: Path, work_root: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    write_series(folder, slices=12, prefix="a")
    write_series(folder, slices=12, prefix="b", orientation=(1, 0, 0, 0, 0.9986, -0.0523), origin_mm=(0, 0, 50))
    assert _code(zip_folder(folder, tmp_path / "x.zip"), work_root) == DicomErrorCode.MIXED_ORIENTATION


def test_upload_copy_stops_at_the_cap(tmp_path: Path) -> None:
    target = tmp_path / "upload.bin"
    assert copy_stream_capped(io.BytesIO(b"x" * 1000), target, max_bytes=1000) == 1000
    with pytest.raises(StudyError) as caught:
        copy_stream_capped(io.BytesIO(b"x" * 3_000_000), target, max_bytes=2_000_000)
    assert caught.value.error_code == DicomErrorCode.UPLOAD_TOO_LARGE


def test_inspection_lists_members_without_extracting(tmp_path: Path, series_dir: Path) -> None:
    inventory = inspect_zip(zip_folder(series_dir, tmp_path / "s.zip"), LIMITS)
    assert len(inventory.members) == 24 and inventory.nested_archives == ()
