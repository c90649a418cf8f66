"""Series selection: every hard rule refuses with its own code, preferences choose among the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicom_support.builders import write_series
from medskills.dicom import SeriesSelectionError, TriageErrorCode, read_dicom_series
from medskills.core.errors import StudyError


def _folder(tmp_path: Path, name: str = "study") -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return folder


def _refusal(folder: Path, **options: object) -> SeriesSelectionError:
    with pytest.raises(SeriesSelectionError) as caught:
        read_dicom_series(folder, min_slices=20, **options)
    return caught.value


def test_two_series_and_a_localizer_choose_the_thin_lung_series_and_say_why(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, series_uid="1.1", kernel="B30f", thickness_mm=1.5, prefix="soft")
    write_series(folder, series_uid="1.2", kernel="B70f", thickness_mm=1.5, prefix="lung")
    write_series(folder, series_uid="1.3", slices=3, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"), prefix="scout")
    series = read_dicom_series(folder, min_slices=20)
    selection = series.selection
    assert selection.chosen_series_uid == "1.2" == series.volume.series_uid
    by_uid = {c.series_uid: c for c in selection.candidates}
    assert by_uid["1.3"].rejection_code is TriageErrorCode.NOT_ORIGINAL_IMAGE
    assert by_uid["1.1"].rejection_code is None and by_uid["1.1"].kernel_class == "soft_tissue"
    assert any("classified lung" in reason for reason in by_uid["1.2"].reasons)
    assert len(series.source_paths) == 24 and all(p.name.startswith("lung") for p in series.source_paths)


def test_thickness_in_the_preferred_range_beats_a_lung_kernel(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, series_uid="1.1", kernel="B30f", thickness_mm=1.0, prefix="thin")
    write_series(folder, series_uid="1.2", kernel="B70f", thickness_mm=5.0, slice_step_mm=5.0, prefix="thick")
    assert read_dicom_series(folder, min_slices=20).selection.chosen_series_uid == "1.1"


def test_a_missing_slice_is_detected(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, skip=(12,))
    error = _refusal(folder)
    assert error.error_code == TriageErrorCode.MISSING_SLICES and "1 slice(s) missing" in str(error)


def test_irregular_spacing_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a", origin_mm=(0, 0, 0), slice_step_mm=1.0)
    write_series(folder, slices=12, prefix="b", origin_mm=(0, 0, 11.7), slice_step_mm=1.3)
    assert _refusal(folder).error_code == TriageErrorCode.IRREGULAR_SLICE_SPACING


def test_mixed_orientations_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a")
    write_series(folder, slices=12, prefix="b", orientation=(1, 0, 0, 0, 0.9986, -0.0523), origin_mm=(0, 0, 50))
    assert _refusal(folder).error_code == TriageErrorCode.MIXED_ORIENTATION


def test_too_few_slices_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12)
    error = _refusal(folder)
    assert error.error_code == TriageErrorCode.NOT_ENOUGH_SLICES
    assert error.selection.chosen_series_uid is None and error.selection.candidates[0].slice_count == 12


def test_a_sagittal_reformat_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, orientation=(0, 1, 0, 0, 0, -1))
    assert _refusal(folder).error_code == TriageErrorCode.NOT_AXIAL


def test_a_sheared_stack_from_gantry_tilt_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, shear_mm_per_slice=0.3)
    assert _refusal(folder).error_code == TriageErrorCode.GANTRY_TILT


def test_other_modalities_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, modality="MR")
    assert _refusal(folder).error_code == TriageErrorCode.NOT_CT


def test_inconsistent_pixel_spacing_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a")
    write_series(folder, slices=12, prefix="b", pixel_spacing_mm=(0.5, 0.5), origin_mm=(-10, -20, -82))
    assert _refusal(folder).error_code == TriageErrorCode.INCONSISTENT_GEOMETRY


def test_duplicate_positions_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a")
    write_series(folder, slices=12, prefix="b")
    assert _refusal(folder).error_code == TriageErrorCode.INCONSISTENT_GEOMETRY


def test_several_studies_need_a_choice(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, study_uid="9.1", series_uid="9.1.1", prefix="a")
    write_series(folder, study_uid="9.2", series_uid="9.2.1", prefix="b")
    with pytest.raises(StudyError) as caught:
        read_dicom_series(folder)
    assert caught.value.error_code == TriageErrorCode.MULTIPLE_STUDIES and "?study_uid=" in str(caught.value)
    assert read_dicom_series(folder, study_uid="9.2").volume.series_uid == "9.2.1"
    with pytest.raises(StudyError) as missing:
        read_dicom_series(folder, study_uid="9.3")
    assert missing.value.error_code == TriageErrorCode.STUDY_NOT_FOUND


def test_a_folder_without_dicom_images_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "notes.txt").write_text("not dicom")
    (folder / "scan.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    with pytest.raises(StudyError) as caught:
        read_dicom_series(folder)
    assert caught.value.error_code == TriageErrorCode.NO_DICOM_SERIES and "2 files" in str(caught.value)


def test_non_dicom_files_beside_a_series_are_skipped_and_listed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder)
    (folder / "readme.txt").write_text("hello")
    series = read_dicom_series(folder)
    assert series.skipped_files == ("readme.txt",) and series.volume.shape[2] == 24
