"""Decoding compressed slices in worker processes gives the same volume as decoding them in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import write_series
from medskills.core.errors import StudyError
from medskills.dicom import DicomErrorCode, read_dicom_series
from medskills.dicom.decoding import MIN_FRAMES_FOR_WORKERS


def _rle_series(folder: Path, *, slices: int = 24) -> list[Path]:
    import pydicom
    from pydicom.uid import RLELossless

    paths = write_series(folder, slices=slices)
    for path in paths:
        dataset = pydicom.dcmread(path)
        dataset.compress(RLELossless)
        dataset.save_as(path, enforce_file_format=True)
    return paths


def test_two_workers_decode_a_compressed_series_to_the_same_volume_as_one(tmp_path: Path) -> None:
    _rle_series(tmp_path)
    assert 24 >= MIN_FRAMES_FOR_WORKERS
    shared = read_dicom_series(tmp_path, decode_workers=2)
    alone = read_dicom_series(tmp_path, decode_workers=1)
    np.testing.assert_array_equal(shared.volume.array, alone.volume.array)
    assert shared.volume.array[19, 0, :].tolist() == [100.0 * k - 1024 for k in range(24)]
    assert shared.source_paths == alone.source_paths


def test_a_corrupt_frame_decoded_by_a_worker_names_its_file(tmp_path: Path) -> None:
    import pydicom

    paths = _rle_series(tmp_path)
    victim = paths[-2]  # the workers take chunks from the back
    dataset = pydicom.dcmread(victim)
    dataset.PixelData = dataset.PixelData[:40] + b"\x00" * 8
    dataset.save_as(victim, enforce_file_format=True)
    with pytest.raises(StudyError) as caught:
        read_dicom_series(tmp_path, decode_workers=2)
    assert caught.value.error_code == DicomErrorCode.TRUNCATED_FILE and victim.name in str(caught.value)
