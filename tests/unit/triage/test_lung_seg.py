"""The lung SEG builder refuses what it cannot encode, and places each frame on its source slice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.triage.lung_seg import build_lung_seg

from dicom_support.builders import write_volume_series


@pytest.fixture()
def sources(tmp_path: Path) -> list:
    import pydicom
    from pydicom.uid import generate_uid

    from medskills.dicom.volume import HUVolume

    array = np.full((16, 12, 6), -800.0, dtype=np.float32)
    volume = HUVolume(array=array, affine=np.diag([1.0, 1.0, 2.0, 1.0]), spacing_mm=(1.0, 1.0, 2.0))
    paths = write_volume_series(tmp_path, volume)
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    frame = generate_uid()
    for dataset in datasets:
        dataset.FrameOfReferenceUID = frame
    return datasets


def test_each_frame_lands_on_its_source_slice(sources: list) -> None:
    import highdicom as hd

    mask = np.zeros((16, 12, 6), dtype=bool)
    mask[2:5, 3:7, 1] = True
    mask[8:10, 1:2, 4] = True
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    seg = build_lung_seg(mask, affine, sources=sources, series_instance_uid=hd.UID(), sop_instance_uid=hd.UID(),
                         model_version="test")
    by_z = {float(s.ImagePositionPatient[2]): str(s.SOPInstanceUID) for s in sources}
    uids = [by_z[z] for z in sorted(by_z)]
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, combine_segments=True)
    assert [int(np.count_nonzero(f)) for f in frames] == [int(np.count_nonzero(mask[..., k])) for k in range(6)]


def test_empty_mask_and_missing_frame_of_reference_are_refused(sources: list) -> None:
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="empty"):
        build_lung_seg(np.zeros((16, 12, 6), bool), affine, sources=sources, series_instance_uid="1.2",
                       sop_instance_uid="1.3", model_version="t")
    for dataset in sources:
        del dataset.FrameOfReferenceUID
    with pytest.raises(ValueError, match="FrameOfReferenceUID"):
        build_lung_seg(np.ones((16, 12, 6), bool), affine, sources=sources, series_instance_uid="1.2",
                       sop_instance_uid="1.3", model_version="t")
