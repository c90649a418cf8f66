"""Series selection: the mechanics refuse with their own codes; the policy decides the rest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dicom_support.builders import write_series
from medskills.core.errors import StudyError
from medskills.dicom import (
    AcquisitionPlane,
    AnySeriesPolicy,
    DicomErrorCode,
    PolicyVerdict,
    SeriesFacts,
    SeriesSelectionError,
    read_dicom_series,
)

AT_LEAST_20 = AnySeriesPolicy(min_slices=20)


def _folder(tmp_path: Path, name: str = "study") -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return folder


def _refusal(folder: Path) -> SeriesSelectionError:
    with pytest.raises(SeriesSelectionError) as caught:
        read_dicom_series(folder, policy=AT_LEAST_20)
    return caught.value


@dataclass(frozen=True)
class _PreferKernel:
    """A policy that refuses localizers with its own code and prefers one kernel (as a capability would)."""

    kernel: str
    min_slices: int = 2

    def judge(self, facts: SeriesFacts) -> PolicyVerdict:
        if "LOCALIZER" in facts.image_types:
            return PolicyVerdict(rejection_code="not_wanted", reasons=("refused: a localizer",))
        return PolicyVerdict(rejection_code=None, reasons=(f"kernel {facts.kernel}",),
                             rank=(float(facts.kernel == self.kernel), float(facts.slice_count)))


def test_the_policy_refuses_and_ranks_and_every_candidate_says_why(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, series_uid="1.1", kernel="B30f", slices=30, prefix="soft")
    write_series(folder, series_uid="1.2", kernel="B70f", prefix="lung")
    write_series(folder, series_uid="1.3", slices=3, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"), prefix="scout")
    series = read_dicom_series(folder, policy=_PreferKernel("B70f"))
    selection = series.selection
    assert selection.chosen_series_uid == "1.2" == series.volume.series_uid
    by_uid = {c.series_uid: c for c in selection.candidates}
    assert by_uid["1.3"].rejection_code == "not_wanted" and by_uid["1.1"].rejection_code is None
    assert by_uid["1.2"].reasons[0] == "kernel B70f" and "no gantry tilt" in by_uid["1.2"].reasons
    assert len(series.source_paths) == 24 and all(p.name.startswith("lung") for p in series.source_paths)


def test_the_default_policy_takes_the_series_with_the_most_slices(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, series_uid="1.1", slices=30, thickness_mm=5.0, slice_step_mm=5.0, prefix="long")
    write_series(folder, series_uid="1.2", prefix="short")
    assert read_dicom_series(folder).selection.chosen_series_uid == "1.1"


def test_an_mr_series_is_read_with_its_modality_and_scanner_units(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, modality="MR")
    series = read_dicom_series(folder)
    assert series.selection.candidates[0].modality == "MR" and series.volume.units == "signal"
    assert type(series.volume).__name__ == "ImageVolume" and series.volume.shape == (20, 24, 24)


def test_a_sagittal_series_is_read_and_named_sagittal(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, orientation=(0, 1, 0, 0, 0, -1))
    series = read_dicom_series(folder)
    assert series.selection.candidates[0].plane is AcquisitionPlane.SAGITTAL
    assert series.volume.shape == (24, 20, 24)  # slices stack left-right: canonical axis 0


def test_a_missing_slice_is_detected(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, skip=(12,))
    error = _refusal(folder)
    assert error.error_code == DicomErrorCode.MISSING_SLICES and "1 slice(s) missing" in str(error)


def test_irregular_spacing_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a", origin_mm=(0, 0, 0), slice_step_mm=1.0)
    write_series(folder, slices=12, prefix="b", origin_mm=(0, 0, 11.7), slice_step_mm=1.3)
    assert _refusal(folder).error_code == DicomErrorCode.IRREGULAR_SLICE_SPACING


def test_mixed_orientations_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a")
    write_series(folder, slices=12, prefix="b", orientation=(1, 0, 0, 0, 0.9986, -0.0523), origin_mm=(0, 0, 50))
    assert _refusal(folder).error_code == DicomErrorCode.MIXED_ORIENTATION


def test_too_few_slices_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12)
    error = _refusal(folder)
    assert error.error_code == DicomErrorCode.NOT_ENOUGH_SLICES
    assert error.selection.chosen_series_uid is None and error.selection.candidates[0].slice_count == 12


def test_a_single_slice_is_refused_even_when_the_policy_allows_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=1)
    with pytest.raises(SeriesSelectionError) as caught:
        read_dicom_series(folder, policy=AnySeriesPolicy(min_slices=1))
    assert caught.value.error_code == DicomErrorCode.NOT_ENOUGH_SLICES


def test_a_sheared_stack_from_gantry_tilt_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, shear_mm_per_slice=0.3)
    assert _refusal(folder).error_code == DicomErrorCode.GANTRY_TILT


def test_inconsistent_pixel_spacing_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a")
    write_series(folder, slices=12, prefix="b", pixel_spacing_mm=(0.5, 0.5), origin_mm=(-10, -20, -82))
    assert _refusal(folder).error_code == DicomErrorCode.INCONSISTENT_GEOMETRY


def test_duplicate_positions_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, slices=12, prefix="a")
    write_series(folder, slices=12, prefix="b")
    assert _refusal(folder).error_code == DicomErrorCode.INCONSISTENT_GEOMETRY


def test_several_studies_need_a_choice(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder, study_uid="9.1", series_uid="9.1.1", prefix="a")
    write_series(folder, study_uid="9.2", series_uid="9.2.1", prefix="b")
    with pytest.raises(StudyError) as caught:
        read_dicom_series(folder)
    assert caught.value.error_code == DicomErrorCode.MULTIPLE_STUDIES and "?study_uid=" in str(caught.value)
    assert read_dicom_series(folder, study_uid="9.2").volume.series_uid == "9.2.1"
    with pytest.raises(StudyError) as missing:
        read_dicom_series(folder, study_uid="9.3")
    assert missing.value.error_code == DicomErrorCode.STUDY_NOT_FOUND


def test_a_folder_without_dicom_images_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "notes.txt").write_text("not dicom")
    (folder / "scan.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    with pytest.raises(StudyError) as caught:
        read_dicom_series(folder)
    assert caught.value.error_code == DicomErrorCode.NO_DICOM_SERIES and "2 files" in str(caught.value)


def test_non_dicom_files_beside_a_series_are_skipped_and_listed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_series(folder)
    (folder / "readme.txt").write_text("hello")
    series = read_dicom_series(folder)
    assert series.skipped_files == ("readme.txt",) and series.volume.shape[2] == 24
