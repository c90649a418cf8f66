"""The qct member on a phantom with known densities and on the real chest crop and abdomen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import chest_phantom
from medskills.dicom import HUVolume, read_nifti_volume
from medskills.triage.densitometry import hu_histogram, measure_density
from medskills.triage.ensemble import default_vocabulary
from medskills.triage.measurements import LungSide, MeasurementName, QCTReport
from medskills.triage.models import EnsembleMember
from medskills.triage.models.qct import QCTMember, finding_score, load_qct_member, qct_feature_names
from medskills.triage.pathologies import group_of
from medskills.triage.preprocessing import StudyInputs


@pytest.fixture(scope="module")
def chest_crop_report(shared_data: Path) -> tuple[QCTReport, np.ndarray]:
    inputs = StudyInputs(read_nifti_volume(shared_data / "ct_chest_crop_1p5mm" / "image.nii.gz"))
    member = QCTMember()
    return member.measure(inputs), member.compute(inputs)


def _value(report: QCTReport, name: MeasurementName, side: LungSide) -> float | None:
    return next(m.value for m in report.measurements if m.name == name and m.side == side)


def test_the_member_follows_the_ensemble_protocol_with_qct_features() -> None:
    member = load_qct_member(object(), type("Spec", (), {"name": "qct"})())
    assert isinstance(member, EnsembleMember)
    assert member.feature_names == qct_feature_names() and all(n.startswith("qct_") for n in member.feature_names)
    assert member.finding_sources == {"qct_emphysema_score": "Pulmonary emphysema",
                                      "qct_medical_material_score": "Medical material"}
    vocabulary = {f.name: f for f in default_vocabulary([member])}
    assert vocabulary["Medical material"].group == group_of("Medical material") == "postop"
    assert vocabulary["Pulmonary emphysema"].threshold == 0.5


def test_the_finding_score_is_half_at_the_threshold_and_monotone() -> None:
    values = [0.0, 1.0, 2.5, 5.0, 7.5, 10.0, 40.0]
    scores = [finding_score(v, 5.0) for v in values]
    assert scores == [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert finding_score(None, 5.0) is None and finding_score(float("nan"), 5.0) is None


def test_densitometry_counts_the_published_hu_bands_exactly() -> None:
    values = np.array([-1000] * 10 + [-930] * 10 + [-850] * 60 + [-500] * 15 + [-100] * 5, dtype=np.float32)
    density = measure_density(hu_histogram(values), voxel_ml=0.5)
    assert density.volume_ml == 50.0 and density.mean_hu == pytest.approx(values.mean())
    assert density.laa_950_percent == 10.0 and density.laa_910_percent == 20.0 and density.haa_percent == 15.0
    assert density.perc15_hu == -930.0  # 10 % are at -1000, the 15th percentile falls in the -930 band
    assert np.isnan(measure_density(hu_histogram(values[:0]), 0.5).mean_hu)


def test_emphysema_is_found_when_laa_950_reaches_five_percent() -> None:
    phantom = chest_phantom()
    array = phantom.array.copy()
    lung_voxels = np.flatnonzero((array < -600).ravel() & (array > -1000).ravel())
    rng = np.random.default_rng(0)
    emphysema = rng.choice(lung_voxels, size=int(0.08 * lung_voxels.size), replace=False)
    array.ravel()[emphysema] = -970.0
    volume = HUVolume(array=array, affine=phantom.affine, spacing_mm=phantom.spacing_mm, study_uid="s",
                      series_uid="s.1")
    member = QCTMember()
    report = member.measure(StudyInputs(volume))
    finding = next(f for f in report.findings if f.name == "Pulmonary emphysema")
    assert 7.0 < finding.value < 9.0 and finding.is_present and finding.score > 0.5
    healthy = next(f for f in member.measure(StudyInputs(phantom)).findings if f.name == "Pulmonary emphysema")
    assert not healthy.is_present and healthy.score < 0.1
    assert not report.is_field_of_view_partial  # the phantom lungs lie inside the image


def test_the_chest_crop_is_measured_per_side_and_flagged_as_partial(chest_crop_report) -> None:
    report, row = chest_crop_report
    assert report.is_field_of_view_partial and {"left", "right"} <= set(report.border_faces)
    assert all(m.is_partial for m in report.measurements if m.name == MeasurementName.LUNG_VOLUME)
    left = _value(report, MeasurementName.LUNG_VOLUME, LungSide.LEFT)
    right = _value(report, MeasurementName.LUNG_VOLUME, LungSide.RIGHT)
    both = _value(report, MeasurementName.LUNG_VOLUME, LungSide.BOTH)
    assert left > 1000 and right > 1000 and both == pytest.approx(left + right)
    assert -800 < _value(report, MeasurementName.MEAN_LUNG_DENSITY, LungSide.BOTH) < -700
    assert len(row) == len(qct_feature_names()) and np.isfinite(row).all()


def test_the_chest_crop_metal_is_counted_apart_from_the_svc_contrast(chest_crop_report) -> None:
    report, _ = chest_crop_report
    metal = _value(report, MeasurementName.METAL_VOLUME, LungSide.BODY)
    contrast = _value(report, MeasurementName.DENSE_CONTRAST_VOLUME, LungSide.BODY)
    assert 2.0 < metal < 4.0  # sternotomy wires and the aortic stent
    assert 6.0 < contrast < 8.0  # the superior vena cava full of contrast, at the same saturated HU
    material = next(f for f in report.findings if f.name == "Medical material")
    assert material.is_present and material.score == 1.0 and "CT-RATE" in material.citation


def test_the_abdomen_lung_bases_split_like_the_totalsegmentator_lobes(shared_data: Path) -> None:
    import nibabel as nib

    report = QCTMember().measure(StudyInputs(read_nifti_volume(shared_data / "ct_abdomen_3mm" / "image.nii.gz")))
    reference = np.asarray(nib.as_closest_canonical(
        nib.load(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")).dataobj)
    left_ml, right_ml = np.isin(reference, [10, 11]).sum() * 0.027, np.isin(reference, [12, 13, 14]).sum() * 0.027
    assert _value(report, MeasurementName.LUNG_VOLUME, LungSide.LEFT) == pytest.approx(left_ml, rel=0.1)
    assert _value(report, MeasurementName.LUNG_VOLUME, LungSide.RIGHT) == pytest.approx(right_ml, rel=0.1)
    material = next(f for f in report.findings if f.name == "Medical material")
    assert not material.is_present and material.score == 0.0


def test_the_chest_check_and_the_member_share_one_lung_segmentation(monkeypatch: pytest.MonkeyPatch) -> None:
    import medskills.triage.lungs as lungs_module
    from medskills.triage.chest import validate_chest

    calls = []
    original = lungs_module.segment_lungs
    monkeypatch.setattr(lungs_module, "segment_lungs", lambda volume: calls.append(volume) or original(volume))
    inputs = StudyInputs(chest_phantom())
    coverage = validate_chest(inputs.volume, lungs=lungs_module.study_lungs(inputs))
    report = QCTMember().measure(inputs)
    assert len(calls) == 1
    assert _value(report, MeasurementName.LUNG_VOLUME, LungSide.BOTH) >= coverage.lung_volume_ml
