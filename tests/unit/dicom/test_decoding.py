"""Decoding compressed slices in worker processes gives the same volume as decoding them in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import write_series
from medskills.core.errors import StudyError
from medskills.dicom import DicomErrorCode, read_dicom_series
from medskills.dicom import decoding
from medskills.dicom._frames import EncodedFrame, decode_chunk
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


_PARENT = os.getpid()


def _die_in_a_worker(chunk: tuple[EncodedFrame, ...]) -> list[tuple[int, np.ndarray]]:
    if os.getpid() != _PARENT:
        os._exit(3)  # a worker killed mid-decode (out of memory, signal)
    return decode_chunk(chunk)


def test_a_dead_worker_costs_time_not_the_volume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _rle_series(tmp_path)
    expected = read_dicom_series(tmp_path, decode_workers=1).volume.array
    monkeypatch.setattr(decoding, "decode_chunk", _die_in_a_worker)
    np.testing.assert_array_equal(read_dicom_series(tmp_path, decode_workers=2).volume.array, expected)


def test_a_script_without_a_main_guard_runs_its_top_level_once(tmp_path: Path) -> None:
    series = tmp_path / "series"
    series.mkdir()
    _rle_series(series)
    script = tmp_path / "unguarded.py"
    script.write_text("from medskills.dicom import read_dicom_series\n"
                      f"volume = read_dicom_series({str(series)!r}, decode_workers=2).volume\n"
                      "print('read', volume.shape)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["read (20, 24, 24)"]
