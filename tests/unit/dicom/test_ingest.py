"""read_dicom_zip: where it extracts, that nothing stays, and what it passes on to the series reader."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dicom_support.builders import write_series, zip_entries, zip_folder
from medskills.core.errors import StudyError
from medskills.dicom import AnySeriesPolicy, DicomErrorCode, SeriesSelectionError, read_dicom_zip
from medskills.dicom.selection import PolicyVerdict, SeriesFacts


@pytest.fixture
def work_root(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root


@pytest.fixture
def series_zip(tmp_path: Path, series_dir: Path) -> Path:
    """The 24-slice synthetic series of ``series_dir``, zipped."""
    return zip_folder(series_dir, tmp_path / "study.zip")


@dataclass
class RefusingPolicy:
    """A SeriesPolicy that refuses every series, and notes what the work root held while it judged."""

    work_root: Path
    min_slices: int = 2
    seen_in_work_root: list[Path] = field(default_factory=list)

    def judge(self, facts: SeriesFacts) -> PolicyVerdict:
        self.seen_in_work_root.extend(self.work_root.rglob("*.dcm"))
        return PolicyVerdict(rejection_code="not_wanted", reasons=("refused: not wanted",))


def _two_study_zip(tmp_path: Path) -> Path:
    folder = tmp_path / "two_studies"
    folder.mkdir()
    write_series(folder, slices=4, study_uid="7.1", series_uid="7.1.1", prefix="a")
    write_series(folder, slices=6, study_uid="7.2", series_uid="7.2.1", prefix="b")
    return zip_folder(folder, tmp_path / "two.zip")


def test_read_dicom_zip_extracts_into_a_private_folder_under_work_root_and_removes_it_when_it_succeeds(
        series_zip: Path, work_root: Path) -> None:
    series = read_dicom_zip(series_zip, work_root=work_root)
    folders = {path.parent for path in series.source_paths}
    assert len(series.source_paths) == 24 and len(folders) == 1
    [folder] = folders
    assert folder.parent == work_root and folder.name.startswith("medskills-study-")
    assert not folder.exists() and list(work_root.iterdir()) == []


def test_read_dicom_zip_extracts_under_the_system_temporary_folder_when_work_root_is_none(
        series_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system_temp = tmp_path / "system_temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    series = read_dicom_zip(series_zip)
    assert {path.parent.parent for path in series.source_paths} == {system_temp}
    assert list(system_temp.iterdir()) == []


def test_read_dicom_zip_removes_the_extracted_files_when_the_policy_refuses_every_series(
        series_zip: Path, work_root: Path) -> None:
    policy = RefusingPolicy(work_root)
    with pytest.raises(SeriesSelectionError) as caught:
        read_dicom_zip(series_zip, policy=policy, work_root=work_root)
    assert len(policy.seen_in_work_root) == 24, "the files were not extracted under work_root"
    assert list(work_root.iterdir()) == []
    assert caught.value.error_code == "not_wanted"


def test_read_dicom_zip_applies_the_policy_it_is_given(series_zip: Path, work_root: Path) -> None:
    with pytest.raises(SeriesSelectionError) as caught:
        read_dicom_zip(series_zip, policy=AnySeriesPolicy(min_slices=25), work_root=work_root)
    assert caught.value.error_code == DicomErrorCode.NOT_ENOUGH_SLICES
    assert "at least 25 needed" in str(caught.value)
    assert read_dicom_zip(series_zip, policy=AnySeriesPolicy(min_slices=24), work_root=work_root).volume.shape[2] == 24


def test_read_dicom_zip_refuses_several_studies_and_removes_the_files_when_no_study_uid_is_given(
        tmp_path: Path, work_root: Path) -> None:
    with pytest.raises(StudyError) as caught:
        read_dicom_zip(_two_study_zip(tmp_path), work_root=work_root)
    assert caught.value.error_code == DicomErrorCode.MULTIPLE_STUDIES
    assert list(work_root.iterdir()) == []


@pytest.mark.parametrize(("study_uid", "series_uid", "slices"), [("7.1", "7.1.1", 4), ("7.2", "7.2.1", 6)])
def test_read_dicom_zip_reads_the_study_named_by_study_uid(tmp_path: Path, work_root: Path, study_uid: str,
                                                           series_uid: str, slices: int) -> None:
    series = read_dicom_zip(_two_study_zip(tmp_path), study_uid=study_uid, work_root=work_root)
    assert (series.volume.study_uid, series.volume.series_uid, series.volume.shape[2]) == (study_uid, series_uid,
                                                                                            slices)


def test_read_dicom_zip_refuses_a_study_uid_that_is_not_in_the_archive(tmp_path: Path, work_root: Path) -> None:
    with pytest.raises(StudyError) as caught:
        read_dicom_zip(_two_study_zip(tmp_path), study_uid="7.3", work_root=work_root)
    assert caught.value.error_code == DicomErrorCode.STUDY_NOT_FOUND and "'7.3'" in str(caught.value)
    assert list(work_root.iterdir()) == []


def test_read_dicom_zip_reports_nested_archives_beside_the_skipped_files(tmp_path: Path, series_dir: Path,
                                                                         work_root: Path) -> None:
    (series_dir / "readme.txt").write_text("not an image")
    inner = zip_entries(tmp_path / "inner.zip", [("x.dcm", b"x")])
    (series_dir / "older.zip").write_bytes(inner.read_bytes())
    series = read_dicom_zip(zip_folder(series_dir, tmp_path / "s.zip"), work_root=work_root)
    assert series.nested_archives == ("older.zip",)
    assert len(series.skipped_files) == 1 and series.volume.shape[2] == 24


def test_read_dicom_zip_reports_no_nested_archives_when_the_zip_holds_none(series_zip: Path, work_root: Path) -> None:
    series = read_dicom_zip(series_zip, work_root=work_root)
    assert series.nested_archives == () and series.skipped_files == ()


def test_read_dicom_zip_refuses_a_zip_that_holds_only_nested_archives(tmp_path: Path, series_zip: Path,
                                                                     work_root: Path) -> None:
    outer = zip_entries(tmp_path / "outer.zip", [("study.zip", series_zip.read_bytes())])
    with pytest.raises(StudyError) as caught:
        read_dicom_zip(outer, work_root=work_root)
    assert caught.value.error_code == DicomErrorCode.NO_DICOM_SERIES
    assert "holds 1 archive(s) that are not opened (study.zip): unzip them" in str(caught.value)
    assert list(work_root.iterdir()) == []


def test_read_dicom_zip_lists_skipped_files_by_their_names_in_the_zip(tmp_path: Path, series_dir: Path,
                                                                      work_root: Path) -> None:
    (series_dir / "notes").mkdir()
    (series_dir / "notes" / "readme.txt").write_text("not an image")
    series = read_dicom_zip(zip_folder(series_dir, tmp_path / "s.zip"), work_root=work_root)
    assert series.skipped_files == ("notes/readme.txt",)


def test_read_dicom_zip_names_the_zip_as_the_volume_source(series_zip: Path, work_root: Path) -> None:
    assert read_dicom_zip(series_zip, work_root=work_root).volume.source_path == series_zip
