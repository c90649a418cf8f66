"""The study input step: classify a path, read and check one study, and preflight many from headers only."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dicom_support.builders import chest_phantom, corrupt_first_member, with_array, write_series, write_volume_series, zip_entries, zip_folder
from medskills.core.errors import ExitCode, InputError, PreflightError, StudyError
from medskills.dicom import ArchiveLimits, DicomErrorCode, HUVolume, SeriesSelectionError, StudyRefusal, read_dicom_zip
from medskills.triage.chest import ChestRule
from medskills.triage.errors import TriageErrorCode
from medskills.triage.study_input import (
    IngestOptions,
    StudyFormat,
    StudySource,
    preflight_studies,
    read_checked_study,
    study_source,
)

PHANTOM_STUDY_UID = "1.2.826.0.1.77"  # write_volume_series' default
PHANTOM_SERIES_UID = "1.2.826.0.1.77.1"


@pytest.fixture(scope="module")
def chest_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic chest CT (80 axial slices, lungs over 180 mm) as a DICOM folder that passes every check."""
    folder = tmp_path_factory.mktemp("chest") / "chest_series"
    folder.mkdir()
    write_volume_series(folder, chest_phantom())
    return folder


@pytest.fixture(scope="module")
def chest_zip(chest_folder: Path) -> Path:
    return zip_folder(chest_folder, chest_folder.parent / "chest.zip")


def _write_nifti(path: Path, array: np.ndarray, spacing_mm: float = 3.0) -> Path:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.Nifti1Image(np.asarray(array, dtype=np.float32), np.diag([spacing_mm] * 3 + [1.0])).to_filename(path)
    return path


def _refusal(source: StudySource, options: IngestOptions | None = None) -> StudyRefusal:
    with pytest.raises(StudyRefusal) as caught:
        read_checked_study(source, options=options or IngestOptions())
    return caught.value


def _preflight_problems(paths: list[Path], options: IngestOptions | None = None) -> PreflightError:
    with pytest.raises(PreflightError) as caught:
        preflight_studies(paths, options=options or IngestOptions())
    return caught.value


# study_source


def test_study_source_raises_an_input_error_naming_the_path_when_it_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.zip"
    with pytest.raises(InputError) as caught:
        study_source(missing)
    assert not isinstance(caught.value, StudyError)
    assert str(missing) in str(caught.value) and "does not exist" in str(caught.value)


def test_study_source_classifies_a_folder_as_a_dicom_folder_whatever_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "looks_like.zip"
    folder.mkdir()
    assert study_source(folder, study_uid="1.2") == StudySource(folder, StudyFormat.DICOM_FOLDER, "1.2")


@pytest.mark.parametrize(("name", "study_format"), [
    ("study.zip", StudyFormat.DICOM_ZIP),
    ("STUDY.ZIP", StudyFormat.DICOM_ZIP),
    ("ct.nii", StudyFormat.NIFTI),
    ("ct.nii.gz", StudyFormat.NIFTI),
    ("CT.NII.GZ", StudyFormat.NIFTI),
])
def test_study_source_classifies_a_file_by_its_suffix_ignoring_case(tmp_path: Path, name: str,
                                                                    study_format: StudyFormat) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert study_source(path, study_uid="1.2") == StudySource(path, study_format, "1.2")


@pytest.mark.parametrize("name", ["slice.dcm", "ct.gz", "study.tar", "scan.niigz", "study.zip.txt"])
def test_study_source_refuses_any_other_file_as_unsupported_file_type(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(StudyError) as caught:
        study_source(path)
    assert caught.value.error_code == DicomErrorCode.UNSUPPORTED_FILE_TYPE
    assert str(path) in str(caught.value) and ".nii.gz" in str(caught.value)


# read_checked_study


def test_read_checked_study_reads_a_dicom_zip_with_its_selection_and_chest_coverage(chest_zip: Path) -> None:
    study = read_checked_study(study_source(chest_zip), options=IngestOptions())
    assert isinstance(study.volume, HUVolume) and study.inputs.volume is study.volume
    assert (study.volume.study_uid, study.volume.series_uid) == (PHANTOM_STUDY_UID, PHANTOM_SERIES_UID)
    assert study.selection is not None and study.selection.chosen_series_uid == PHANTOM_SERIES_UID
    assert study.coverage.decided_by is ChestRule.PASSED and study.coverage.slice_count == 80
    assert study.nested_archives == ()


def test_read_checked_study_reads_a_dicom_folder_with_its_selection(chest_folder: Path) -> None:
    study = read_checked_study(study_source(chest_folder), options=IngestOptions())
    assert study.selection is not None and study.selection.chosen_series_uid == PHANTOM_SERIES_UID
    assert study.volume.shape == (96, 96, 80) and study.coverage.decided_by is ChestRule.PASSED


def test_read_checked_study_reads_a_nifti_without_a_selection(tmp_path: Path) -> None:
    path = _write_nifti(tmp_path / "chest.nii.gz", chest_phantom().array)
    study = read_checked_study(study_source(path), options=IngestOptions())
    assert study.selection is None and study.nested_archives == ()
    assert study.volume.study_uid == "nifti_chest" and study.coverage.decided_by is ChestRule.PASSED


def test_read_checked_study_carries_the_nested_archives_of_a_zip(tmp_path: Path, chest_folder: Path) -> None:
    inner = zip_entries(tmp_path / "inner.zip", [("old.dcm", b"x")])
    archive = zip_folder(chest_folder, tmp_path / "with_nested.zip")
    with zipfile.ZipFile(archive, "a") as handle:
        handle.writestr("previous/inner.zip", inner.read_bytes())
    assert read_checked_study(study_source(archive), options=IngestOptions()).nested_archives == ("previous/inner.zip",)


@pytest.mark.parametrize(("work_root_name", "expected_name"), [(None, "zip_home"), ("work", "work")])
def test_read_checked_study_extracts_a_zip_under_the_work_root_or_else_beside_the_zip(
        tmp_path: Path, chest_zip: Path, monkeypatch: pytest.MonkeyPatch, work_root_name: str | None,
        expected_name: str) -> None:
    (tmp_path / "zip_home").mkdir()
    (tmp_path / "work").mkdir()
    archive = tmp_path / "zip_home" / "study.zip"
    archive.write_bytes(chest_zip.read_bytes())
    work_roots: list[Path] = []

    def recording_read_dicom_zip(zip_path: Path, **options: Any) -> Any:
        """The real reader, noting the work root it was given."""
        work_roots.append(options["work_root"])
        return read_dicom_zip(zip_path, **options)

    monkeypatch.setattr("medskills.triage.study_input.read_dicom_zip", recording_read_dicom_zip)
    options = IngestOptions(work_root=tmp_path / work_root_name if work_root_name else None)
    read_checked_study(study_source(archive), options=options)
    assert work_roots == [tmp_path / expected_name]
    assert list((tmp_path / expected_name).iterdir()) == ([archive] if expected_name == "zip_home" else [])


@pytest.mark.parametrize("use_zip", [True, False], ids=["zip", "folder"])
def test_read_checked_study_refuses_a_series_with_fewer_slices_than_min_slices(
        chest_zip: Path, chest_folder: Path, use_zip: bool) -> None:
    refusal = _refusal(study_source(chest_zip if use_zip else chest_folder), IngestOptions(min_slices=81))
    assert isinstance(refusal, SeriesSelectionError)
    assert refusal.error_code == DicomErrorCode.NOT_ENOUGH_SLICES and "at least 81 needed" in str(refusal)


@pytest.mark.parametrize("use_zip", [True, False], ids=["zip", "folder"])
def test_read_checked_study_refuses_a_series_that_is_not_ct_under_the_chest_policy(tmp_path: Path,
                                                                                  use_zip: bool) -> None:
    folder = tmp_path / "mr"
    folder.mkdir()
    write_series(folder, modality="MR")
    path = zip_folder(folder, tmp_path / "mr.zip") if use_zip else folder
    refusal = _refusal(study_source(path))
    assert refusal.error_code == TriageErrorCode.NOT_CT
    assert refusal.selection is not None and refusal.selection.chosen_series_uid is None


@pytest.mark.parametrize("use_zip", [True, False], ids=["zip", "folder"])
def test_read_checked_study_refuses_a_study_uid_that_the_input_does_not_hold(chest_zip: Path, chest_folder: Path,
                                                                             use_zip: bool) -> None:
    path = chest_zip if use_zip else chest_folder
    with pytest.raises(StudyError) as caught:
        read_checked_study(study_source(path, study_uid="9.9.9"), options=IngestOptions())
    assert caught.value.error_code == DicomErrorCode.STUDY_NOT_FOUND and "'9.9.9'" in str(caught.value)


def test_read_checked_study_applies_the_archive_limits_of_its_options(chest_zip: Path) -> None:
    options = IngestOptions(archive_limits=ArchiveLimits(max_entries=79))
    with pytest.raises(StudyError) as caught:
        read_checked_study(study_source(chest_zip), options=options)
    assert caught.value.error_code == DicomErrorCode.ZIP_TOO_MANY_ENTRIES


def test_read_checked_study_refuses_a_dicom_study_without_lungs_with_its_selection_and_uids(tmp_path: Path) -> None:
    folder = tmp_path / "no_lungs"
    folder.mkdir()
    write_volume_series(folder, chest_phantom(lung_slices=(10, 11)))
    refusal = _refusal(study_source(folder))
    assert type(refusal) is StudyRefusal and refusal.error_code == TriageErrorCode.LUNGS_NOT_FOUND
    assert refusal.selection is not None and refusal.selection.chosen_series_uid == PHANTOM_SERIES_UID
    assert (refusal.study_uid, refusal.series_uid) == (PHANTOM_STUDY_UID, PHANTOM_SERIES_UID)
    assert isinstance(refusal.__cause__, StudyError)


def test_read_checked_study_refuses_a_nifti_that_is_not_in_hu_without_a_selection(tmp_path: Path) -> None:
    phantom = chest_phantom()
    path = _write_nifti(tmp_path / "shifted.nii", with_array(phantom, phantom.array + 1100.0).array)
    refusal = _refusal(study_source(path))
    assert type(refusal) is StudyRefusal and refusal.error_code == TriageErrorCode.HU_IMPLAUSIBLE
    assert refusal.selection is None
    assert (refusal.study_uid, refusal.series_uid) == ("nifti_shifted", "nifti_shifted_series")


# preflight_studies


def test_preflight_studies_returns_each_source_with_its_study_id_in_order(tmp_path: Path, chest_zip: Path) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    write_series(folder, slices=2, study_uid="5.5", series_uid="5.5.1")
    nifti = _write_nifti(tmp_path / "scan.nii.gz", np.zeros((4, 4, 4)))
    found = preflight_studies([nifti, chest_zip, folder], options=IngestOptions())
    assert [(source.path, source.format, study_id) for source, study_id in found] == [
        (nifti, StudyFormat.NIFTI, "nifti_scan"),
        (chest_zip, StudyFormat.DICOM_ZIP, PHANTOM_STUDY_UID),
        (folder, StudyFormat.DICOM_FOLDER, "5.5"),
    ]


def test_preflight_studies_reads_the_first_file_with_a_study_uid_in_a_folder(tmp_path: Path) -> None:
    import pydicom

    folder = tmp_path / "study"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "000_readme.txt").write_text("not DICOM")
    [no_uid] = write_series(folder / "a", slices=1, study_uid="4.0", series_uid="4.0.1", prefix="001_no_uid")
    dataset = pydicom.dcmread(no_uid)
    del dataset.StudyInstanceUID
    pydicom.dcmwrite(no_uid, dataset)
    write_series(folder / "a", slices=2, study_uid="4.4", series_uid="4.4.1", prefix="002")
    write_series(folder, slices=2, study_uid="3.3", series_uid="3.3.1", prefix="zzz")
    [(_, study_id)] = preflight_studies([folder], options=IngestOptions())
    assert study_id == "4.4"


def test_preflight_studies_reads_the_first_dicom_member_with_a_study_uid_in_a_zip(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    write_series(folder, slices=2, study_uid="6.6", series_uid="6.6.1", prefix="b")
    (folder / "a_readme.txt").write_text("not DICOM")
    (folder / "a_nested.zip").write_bytes(zip_entries(tmp_path / "n.zip", [("x.dcm", b"x")]).read_bytes())
    [(_, study_id)] = preflight_studies([zip_folder(folder, tmp_path / "s.zip")], options=IngestOptions())
    assert study_id == "6.6"


@pytest.mark.parametrize("use_zip", [True, False], ids=["zip", "folder"])
def test_preflight_studies_reports_an_input_without_a_dicom_study_uid(tmp_path: Path, use_zip: bool) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(b"%PDF-1.4")
    path = zip_folder(folder, tmp_path / "docs.zip") if use_zip else folder
    error = _preflight_problems([path])
    assert error.problems == [f"{path}: no DICOM file with a StudyInstanceUID was found"]


def test_preflight_studies_reports_a_zip_whose_member_data_is_corrupt(tmp_path: Path, chest_zip: Path) -> None:
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(chest_zip.read_bytes())
    corrupt_first_member(damaged)
    error = _preflight_problems([damaged])
    [problem] = error.problems
    assert problem.startswith(f"{damaged}: ") and "cannot be read" in problem and "corrupt" in problem


def test_preflight_studies_gathers_every_problem_into_one_error(tmp_path: Path, chest_zip: Path) -> None:
    missing = tmp_path / "missing.zip"
    unsupported = tmp_path / "slice.dcm"
    unsupported.write_bytes(b"")
    error = _preflight_problems([missing, chest_zip, unsupported])
    assert error.exit_code == ExitCode.USAGE
    assert str(error).startswith("2 of 3 studies cannot be used:\n- ")
    assert len(error.problems) == 2
    assert error.problems[0].startswith(f"{missing}: ") and "does not exist" in error.problems[0]
    assert error.problems[1].startswith(f"{unsupported}: ") and "expected a .zip" in error.problems[1]


def test_preflight_studies_reports_a_second_input_of_the_same_dicom_study(chest_zip: Path, chest_folder: Path) -> None:
    error = _preflight_problems([chest_zip, chest_folder])
    [problem] = error.problems
    assert problem.startswith(f"{chest_folder}: study id '{PHANTOM_STUDY_UID}' is also the id of {chest_zip};")


def test_preflight_studies_reports_two_nifti_files_with_the_same_name(tmp_path: Path) -> None:
    first = _write_nifti(tmp_path / "a" / "scan.nii.gz", np.zeros((4, 4, 4)))
    second = _write_nifti(tmp_path / "b" / "scan.nii", np.zeros((4, 4, 4)))
    [problem] = _preflight_problems([first, second]).problems
    assert problem.startswith(f"{second}: study id 'nifti_scan' is also the id of {first};")


def test_preflight_studies_reports_a_nifti_that_cannot_be_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"not a nifti file at all")
    [problem] = _preflight_problems([broken]).problems
    assert problem.startswith(f"{broken}: not a readable NIfTI file (")


@pytest.mark.parametrize("shape", [(4, 4, 1), (4, 4), (4, 4, 4, 2)])
def test_preflight_studies_reports_a_nifti_that_is_not_one_3d_volume(tmp_path: Path, shape: tuple[int, ...]) -> None:
    path = _write_nifti(tmp_path / "odd.nii", np.zeros(shape))
    [problem] = _preflight_problems([path]).problems
    assert problem == f"{path}: expected one 3D volume, got shape {shape}"


def test_preflight_studies_accepts_a_3d_nifti_with_a_trailing_singleton_axis(tmp_path: Path) -> None:
    path = _write_nifti(tmp_path / "vol.nii", np.zeros((4, 4, 4, 1)))
    [(source, study_id)] = preflight_studies([path], options=IngestOptions())
    assert (source.format, study_id) == (StudyFormat.NIFTI, "nifti_vol")


def test_preflight_studies_reports_a_zip_that_is_not_a_readable_archive(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"this is not a zip")
    [problem] = _preflight_problems([fake]).problems
    assert problem.startswith(f"{fake}: the upload is not a readable ZIP archive")


def test_preflight_studies_applies_the_archive_limits_of_its_options(chest_zip: Path) -> None:
    assert preflight_studies([chest_zip], options=IngestOptions(archive_limits=ArchiveLimits(max_entries=80)))
    [problem] = _preflight_problems([chest_zip], IngestOptions(archive_limits=ArchiveLimits(max_entries=79))).problems
    assert "more than the limit of 79" in problem
