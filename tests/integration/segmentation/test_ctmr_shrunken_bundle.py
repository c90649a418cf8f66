"""``python -m monai.bundle run`` of the shrunken real bundle (see conftest), end to end through the skill.

What is cheaper to prove here than on the full-size bundle: everything mode (50 prompts), the timeout
kill, and a DICOM series in with a DICOM SEG out. The full-size bundle runs in test_ctmr_real_upstream.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

import medskills.dicom
from medskills.core.io import sha256_file
from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.segmentation import SegmentationRequest, segment_ctmr
from medskills.segmentation.labels import SegmentationModality, load_label_sets
from medskills.verification import SegmentationVerifyRequest, grade_segmentation

pytestmark = pytest.mark.slow

HAS_DICOM_READER = hasattr(medskills.dicom, "read_dicom_series")


def _segment(image: Path, output_dir: Path, **fields: object):
    values = {"modality": "CT_BODY", "device": "cpu", **fields}
    request = SegmentationRequest(image_path=image, output_dir=output_dir, **values)
    return segment_ctmr(request, settings=load_settings(), device_info=DeviceInfo(cuda_available=False))


@pytest.mark.usefixtures("bundle_env")
def test_shrunken_bundle_everything_mode_stays_within_the_modality_set(
    shared_data: Path, tmp_path: Path, tiny_bundle: Path
) -> None:
    image = shared_data / "mr_body_3mm" / "image.nii.gz"
    before = sorted(p.name for p in tiny_bundle.iterdir())
    record = _segment(image, tmp_path / "out", modality="MRI_BODY")
    # the bundle's logging.conf would add training.log to the upstream clone; ours keeps it out
    assert sorted(p.name for p in tiny_bundle.iterdir()) == before and not (tiny_bundle / "training.log").exists()
    argv = record.invocation.argv
    assert "label_prompt" not in argv[argv.index("--input_dict") + 1] and "MRI_BODY" in argv
    mri_body = set(load_label_sets().everything[SegmentationModality.MRI_BODY])
    assert record.plan.prompts.is_everything and set(record.plan.prompts.allowed_output_ids) == mri_body
    gates = {gate.gate: gate.status for gate in record.gates}
    # random weights: anatomy (laterality) is meaningless, but ids and geometry must hold
    for name in ("upstream_exit_code", "output_exists", "label_values_integral", "geometry_matches_input",
                 "label_set_within_allowed", "any_label_present"):
        assert gates[name] == Status.PASSED, name
    assert set(record.output.label_ids_present) <= mri_body


@pytest.mark.usefixtures("bundle_env")
def test_shrunken_bundle_timeout_kills_the_run_and_exits_124(shared_data: Path, tmp_path: Path) -> None:
    record = _segment(shared_data / "ct_abdomen_3mm" / "image.nii.gz", tmp_path / "out", prompts="spleen",
                      timeout_seconds=1.0)
    assert record.exit_code == 124 and record.status == Status.FAILED
    assert record.invocation.is_timed_out and "timeout" in record.failure_reasons[0]


@pytest.mark.skipif(not HAS_DICOM_READER, reason="medskills.dicom.read_dicom_series is not in this checkout yet")
@pytest.mark.usefixtures("bundle_env")
def test_shrunken_bundle_run_on_a_dicom_series_writes_a_realigned_seg(shared_data: Path, tmp_path: Path) -> None:
    import highdicom as hd
    import pydicom

    series = shared_data / "ct_dicom_series"
    record = _segment(series, tmp_path / "out", prompts="spleen,aorta")
    assert record.status == Status.PASSED, record.failure_reasons
    # converted once, inside OUT, and that file is what the bundle read
    converted = tmp_path / "out" / "input" / "series.nii.gz"
    assert record.plan.input.bundle_input_path == converted and converted.is_file()
    assert str(converted) in record.invocation.argv[record.invocation.argv.index("--input_dict") + 1]
    labels = nib.load(record.output.mask_path)
    assert labels.shape == nib.load(converted).shape == (512, 512, 20)
    assert set(record.output.label_ids_present) <= {3, 6}
    seg = record.output.dicom_seg
    assert seg is not None and seg.is_readable_pydicom and seg.is_readable_highdicom and seg.is_realigned
    assert {g.gate: g.status for g in record.gates}["dicom_seg_round_trip"] == Status.PASSED
    dataset = pydicom.dcmread(seg.path)
    names = {"spleen", "aorta"}
    assert {s.SegmentLabel for s in dataset.SegmentSequence} <= names
    source_uids = {str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.MediaStorageSOPInstanceUID)
                   for p in series.iterdir()}
    referenced = {str(i.ReferencedSOPInstanceUID)
                  for i in dataset.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert referenced == source_uids
    volume = hd.seg.segread(seg.path).get_volume(combine_segments=True)
    assert volume.spatial_shape[1:] == (512, 512)
    roles = {artifact.role for artifact in record.artifacts}
    assert {"label_map", "dicom_seg", "converted_input", "bundle_output"} <= roles
    # the verifier grades the run against the NIfTI the bundle read (the recorded image is a folder)
    verdict = grade_segmentation(SegmentationVerifyRequest(run_dir=tmp_path / "out"))
    assert {(item.role, item.path) for item in verdict.files_read} >= {("image", converted)}


def _oblique_copy(series: Path, target: Path, *, degrees: float = 15.0) -> Path:
    """The real series with its slice plane tilted about the x axis and positions along the new normal (a valid
    oblique acquisition, no gantry shear)."""
    import pydicom

    target.mkdir()
    cos, sin = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    normal = np.array([0.0, -sin, cos])
    for index, path in enumerate(sorted(series.iterdir(), key=lambda p: float(
            pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))):
        dataset = pydicom.dcmread(path)
        spacing = float(dataset.get("SpacingBetweenSlices", dataset.SliceThickness))
        dataset.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, cos, sin]
        dataset.ImagePositionPatient = [float(v) for v in np.array([-249.5, -437.5, -766.5]) + normal * spacing * index]
        dataset.save_as(target / path.name)
    return target


@pytest.mark.skipif(not HAS_DICOM_READER, reason="medskills.dicom.read_dicom_series is not in this checkout yet")
@pytest.mark.usefixtures("bundle_env")
def test_shrunken_bundle_run_on_an_oblique_dicom_series_writes_its_seg(shared_data: Path, tmp_path: Path) -> None:
    series = _oblique_copy(shared_data / "ct_dicom_series", tmp_path / "oblique")
    record = _segment(series, tmp_path / "out", prompts="spleen,aorta")
    gates = {g.gate: g.status for g in record.gates}
    assert record.status == Status.PASSED, record.failure_reasons
    assert "dicom_seg_written" not in gates and gates["dicom_seg_round_trip"] == Status.PASSED
