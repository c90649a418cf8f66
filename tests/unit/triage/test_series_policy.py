"""The chest-CT series policy: original axial CT only, then thin slices, a lung kernel, more slices."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicom_support.builders import write_series
from medskills.dicom import SeriesSelectionError, read_dicom_series
from medskills.triage.errors import TriageErrorCode
from medskills.triage.series_policy import ChestCTSeriesPolicy

CHEST = ChestCTSeriesPolicy(min_slices=20)


def _refusal_code(folder: Path) -> str:
    with pytest.raises(SeriesSelectionError) as caught:
        read_dicom_series(folder, policy=CHEST)
    return caught.value.error_code


def test_two_series_and_a_localizer_choose_the_thin_lung_series_and_say_why(tmp_path: Path) -> None:
    write_series(tmp_path, series_uid="1.1", kernel="B30f", thickness_mm=1.5, prefix="soft")
    write_series(tmp_path, series_uid="1.2", kernel="B70f", thickness_mm=1.5, prefix="lung")
    write_series(tmp_path, series_uid="1.3", slices=3, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"), prefix="scout")
    selection = read_dicom_series(tmp_path, policy=CHEST).selection
    assert selection.chosen_series_uid == "1.2"
    by_uid = {c.series_uid: c for c in selection.candidates}
    assert by_uid["1.3"].rejection_code == TriageErrorCode.NOT_ORIGINAL_IMAGE
    assert any("classified soft_tissue" in reason for reason in by_uid["1.1"].reasons)
    assert any("classified lung" in reason for reason in by_uid["1.2"].reasons)


def test_thickness_in_the_preferred_range_beats_a_lung_kernel(tmp_path: Path) -> None:
    write_series(tmp_path, series_uid="1.1", kernel="B30f", thickness_mm=1.0, prefix="thin")
    write_series(tmp_path, series_uid="1.2", kernel="B70f", thickness_mm=5.0, slice_step_mm=5.0, prefix="thick")
    assert read_dicom_series(tmp_path, policy=CHEST).selection.chosen_series_uid == "1.1"


def test_a_sagittal_reformat_is_refused_as_not_axial(tmp_path: Path) -> None:
    write_series(tmp_path, orientation=(0, 1, 0, 0, 0, -1))
    assert _refusal_code(tmp_path) == TriageErrorCode.NOT_AXIAL


def test_other_modalities_are_refused_as_not_ct(tmp_path: Path) -> None:
    write_series(tmp_path, modality="MR")
    assert _refusal_code(tmp_path) == TriageErrorCode.NOT_CT


def test_too_few_slices_for_the_triage_are_refused(tmp_path: Path) -> None:
    write_series(tmp_path, slices=12)
    assert _refusal_code(tmp_path) == "not_enough_slices"
