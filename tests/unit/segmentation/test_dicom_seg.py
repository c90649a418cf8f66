"""DICOM SEG from a label map on the real CT series: named segments, source references, frame realignment."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from medskills.core.errors import GateFailure
from medskills.segmentation.dicom_seg import SegSource, read_seg_sources, write_dicom_seg

RAS_FROM_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
NAMES = {3: "spleen", 6: "aorta", 300: "Right-Hippocampus"}


def _source(shared_data: Path) -> SegSource:
    paths = sorted((shared_data / "ct_dicom_series").iterdir())
    return read_seg_sources(paths, study_uid="1.2.3.4", series_uid="1.2.3.5")


def _labels_on_ras_grid(source: SegSource) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A label map in the (frames, rows, columns) source grid, and the same map as canonical RAS NIfTI data."""
    on_source = np.zeros(source.geometry.spatial_shape, np.int32)
    on_source[3:10, 100:200, 150:300] = 3
    on_source[5:15, 300:400, 100:200] = 6
    on_source[8, 10:20, 10:20] = 300  # an id above 255 must survive
    image = nib.as_closest_canonical(nib.Nifti1Image(on_source, RAS_FROM_LPS @ source.geometry.affine))
    return on_source, np.asarray(image.dataobj), image.affine


def test_seg_round_trips_and_realigns_with_the_source_series(shared_data: Path, tmp_path: Path) -> None:
    source = _source(shared_data)
    on_source, labels, affine = _labels_on_ras_grid(source)
    summary = write_dicom_seg(labels=labels, affine_ras=affine, source=source, names=NAMES,
                              output_path=tmp_path / "labels.seg.dcm", algorithm_version="test")
    assert summary.is_readable_pydicom and summary.is_readable_highdicom and summary.is_realigned
    assert summary.segment_count == 3 and summary.referenced_instance_count == 20
    assert set(summary.repaired_source_attributes) == {"SOPInstanceUID", "SOPClassUID", "StudyInstanceUID",
                                                       "SeriesInstanceUID"}
    dataset = pydicom.dcmread(summary.path)
    assert [s.SegmentLabel for s in dataset.SegmentSequence] == ["spleen", "aorta", "Right-Hippocampus"]
    assert [s.TrackingID for s in dataset.SegmentSequence] == ["vista3d:3", "vista3d:6", "vista3d:300"]
    referenced = {i.ReferencedSOPInstanceUID for i in dataset.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert referenced == {str(d.SOPInstanceUID) for d in source.datasets}
    import highdicom as hd

    frames = hd.seg.segread(summary.path).get_pixels_by_source_instance(
        source_sop_instance_uids=[str(d.SOPInstanceUID) for d in source.datasets], combine_segments=True)
    lookup = np.zeros(301, np.int32)
    lookup[[3, 6, 300]] = [1, 2, 3]
    assert np.array_equal(frames, lookup[on_source])


def test_a_label_map_on_another_grid_is_refused(shared_data: Path, tmp_path: Path) -> None:
    source = _source(shared_data)
    _, labels, affine = _labels_on_ras_grid(source)
    shifted = affine.copy()
    shifted[0, 3] += 7.3
    with pytest.raises(GateFailure, match="grid"):
        write_dicom_seg(labels=labels, affine_ras=shifted, source=source, names=NAMES,
                        output_path=tmp_path / "x.dcm", algorithm_version="test")


def test_an_empty_label_map_is_refused(shared_data: Path, tmp_path: Path) -> None:
    source = _source(shared_data)
    _, labels, affine = _labels_on_ras_grid(source)
    with pytest.raises(GateFailure, match="empty"):
        write_dicom_seg(labels=np.zeros_like(labels), affine_ras=affine, source=source, names=NAMES,
                        output_path=tmp_path / "x.dcm", algorithm_version="test")


def test_the_source_files_are_not_modified(shared_data: Path) -> None:
    first = sorted((shared_data / "ct_dicom_series").iterdir())[0]
    before = first.read_bytes()
    _source(shared_data)
    assert first.read_bytes() == before and pydicom.dcmread(first).SOPInstanceUID == ""


def test_the_realignment_check_fails_when_frames_do_not_match(shared_data: Path, tmp_path: Path) -> None:
    from medskills.segmentation import dicom_seg

    source = _source(shared_data)
    on_source, labels, affine = _labels_on_ras_grid(source)
    summary = write_dicom_seg(labels=labels, affine_ras=affine, source=source, names=NAMES,
                              output_path=tmp_path / "labels.seg.dcm", algorithm_version="test")
    flipped = np.ascontiguousarray(np.flip(np.sign(on_source), axis=2))  # left-right mirrored frames
    rechecked = dicom_seg._verify(summary.path, source=source, expected=flipped, segment_count=3)
    assert not rechecked.is_realigned


@pytest.mark.parametrize("plane", ["sagittal", "coronal"])
def test_seg_of_a_non_axial_series_references_every_slice_and_realigns(
    shared_data: Path, tmp_path: Path, plane: str,
) -> None:
    from dicom_support.builders import write_nifti_as_series

    scan = shared_data / "ct_abdomen_3mm"
    folder = tmp_path / plane
    folder.mkdir()
    paths = write_nifti_as_series(folder, scan / "image.nii.gz", modality="CT", plane=plane)
    source = read_seg_sources(paths, study_uid="1.2.826.0.1.88", series_uid="1.2.826.0.1.88.1")
    reference = nib.as_closest_canonical(nib.load(scan / "reference_totalsegmentator.nii.gz"))
    labels = np.asarray(reference.dataobj).astype(np.int32)
    summary = write_dicom_seg(labels=labels, affine_ras=reference.affine, source=source,
                              names={5: "liver"}, output_path=tmp_path / "labels.seg.dcm", algorithm_version="test")
    assert summary.is_realigned and summary.frame_count > 0
    assert summary.referenced_instance_count == len(paths)
    assert summary.segment_count == len(np.unique(labels)) - 1
    assert "PatientBirthDate" in summary.repaired_source_attributes  # the builder, like some exporters, omits it


def test_a_source_series_without_a_frame_of_reference_is_a_gate_failure_naming_it(
    shared_data: Path, tmp_path: Path,
) -> None:
    from dicom_support.builders import write_nifti_as_series

    scan = shared_data / "ct_abdomen_3mm"
    folder = tmp_path / "no_for"
    folder.mkdir()
    paths = write_nifti_as_series(folder, scan / "image.nii.gz", modality="CT", plane="sagittal")
    for path in paths:
        dataset = pydicom.dcmread(path)
        del dataset.FrameOfReferenceUID
        dataset.save_as(path)
    source = read_seg_sources(paths, study_uid="1.2.826.0.1.88", series_uid="1.2.826.0.1.88.1")
    reference = nib.as_closest_canonical(nib.load(scan / "reference_totalsegmentator.nii.gz"))
    with pytest.raises(GateFailure, match="Frame Of Reference.*--output-type nifti"):
        write_dicom_seg(labels=np.asarray(reference.dataobj).astype(np.int32), affine_ras=reference.affine,
                        source=source, names={}, output_path=tmp_path / "x.dcm", algorithm_version="test")
