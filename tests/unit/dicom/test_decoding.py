"""Decoding compressed slices beside forked helpers gives the same volume as decoding them in-process,
whatever the helpers do (fail, die, hang)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import write_series
from medskills.core.errors import StudyError
from medskills.dicom import DicomErrorCode, read_dicom_series
from medskills.dicom import decoding
from medskills.dicom._frames import EncodedFrame, FrameDecodeError, decode_frame
from medskills.dicom.decoding import MIN_FRAMES_FOR_WORKERS

_SLICES = 24
_PARENT = os.getpid()


def _rle_series(folder: Path, *, slices: int = _SLICES) -> list[Path]:
    import pydicom
    from pydicom.uid import RLELossless

    paths = write_series(folder, slices=slices)
    for path in paths:
        dataset = pydicom.dcmread(path)
        dataset.compress(RLELossless)
        dataset.save_as(path, enforce_file_format=True)
    return paths


@pytest.fixture(scope="module")
def rle_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rle")
    _rle_series(folder)
    return folder


@pytest.fixture(scope="module")
def decoded_alone(rle_series: Path) -> np.ndarray:
    return read_dicom_series(rle_series, decode_workers=1).volume.array


def test_two_workers_decode_a_compressed_series_to_the_same_volume_as_one(rle_series: Path,
                                                                           decoded_alone: np.ndarray) -> None:
    assert _SLICES >= MIN_FRAMES_FOR_WORKERS
    shared = read_dicom_series(rle_series, decode_workers=2)
    np.testing.assert_array_equal(shared.volume.array, decoded_alone)
    assert shared.volume.array[19, 0, :].tolist() == [100.0 * k - 1024 for k in range(_SLICES)]
    assert shared.source_paths == read_dicom_series(rle_series, decode_workers=1).source_paths


def test_the_caller_and_a_helper_process_both_decode(rle_series: Path, decoded_alone: np.ndarray, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "decoders.txt"

    def logged(frame: EncodedFrame) -> np.ndarray:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(0.01)  # the helper starts while the caller is on its first frame, whatever the load
        return decode_frame(frame)

    monkeypatch.setattr(decoding, "decode_frame", logged)
    np.testing.assert_array_equal(read_dicom_series(rle_series, decode_workers=2).volume.array, decoded_alone)
    decoders = log.read_text().split()
    assert len(decoders) == _SLICES and str(_PARENT) in decoders and len(set(decoders)) == 2


def test_one_worker_or_too_few_frames_stay_in_the_calling_process(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _rle_series(tmp_path, slices=MIN_FRAMES_FOR_WORKERS - 1)
    monkeypatch.setattr(decoding, "_decode_beside_helpers", None)  # calling it would raise TypeError
    assert read_dicom_series(tmp_path, decode_workers=2).volume.shape[2] == MIN_FRAMES_FOR_WORKERS - 1


def test_a_corrupt_frame_names_its_file_whoever_decodes_it(tmp_path: Path) -> None:
    import pydicom

    paths = _rle_series(tmp_path)
    for victim in (paths[1], paths[-2]):  # one the caller takes early, one likely a helper's
        dataset = pydicom.dcmread(victim)
        dataset.PixelData = dataset.PixelData[:40] + b"\x00" * 8
        dataset.save_as(victim, enforce_file_format=True)
    with pytest.raises(StudyError) as caught:
        read_dicom_series(tmp_path, decode_workers=2)
    assert caught.value.error_code == DicomErrorCode.TRUNCATED_FILE
    assert paths[1].name in str(caught.value) or paths[-2].name in str(caught.value)


def _fail_in_a_helper(frame: EncodedFrame) -> np.ndarray:
    if os.getpid() != _PARENT:
        raise FrameDecodeError(frame.file_name, "decoder refused it in the helper only")
    return decode_frame(frame)


def _die_in_a_helper(frame: EncodedFrame) -> np.ndarray:
    if os.getpid() != _PARENT:
        os._exit(3)  # a helper killed mid-decode (out of memory, signal)
    return decode_frame(frame)


def _hang_in_a_helper(frame: EncodedFrame) -> np.ndarray:
    if os.getpid() != _PARENT:
        time.sleep(3600)  # a helper deadlocked (a lock held by another thread at fork)
    return decode_frame(frame)


@pytest.mark.parametrize("misbehaviour", [_fail_in_a_helper, _die_in_a_helper, _hang_in_a_helper],
                         ids=["fails", "dies", "hangs"])
def test_a_helper_that_fails_dies_or_hangs_costs_time_not_the_volume(
        misbehaviour: object, rle_series: Path, decoded_alone: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding, "decode_frame", misbehaviour)
    monkeypatch.setattr(decoding, "HELPER_SILENCE_SECONDS", 1.0)
    np.testing.assert_array_equal(read_dicom_series(rle_series, decode_workers=2).volume.array, decoded_alone)
    for child in multiprocessing.active_children():  # a hung helper was killed; the others exit by themselves
        child.join(10)
        assert not child.is_alive()


def _read_in_a_daemon(series: Path, expected: np.ndarray) -> None:
    volume = read_dicom_series(series, decode_workers=2).volume.array
    os._exit(0 if np.array_equal(volume, expected) else 5)


def test_a_daemonic_process_decodes_alone_instead_of_failing(rle_series: Path, decoded_alone: np.ndarray) -> None:
    daemon = multiprocessing.get_context("fork").Process(target=_read_in_a_daemon, args=(rle_series, decoded_alone),
                                                         daemon=True)
    daemon.start()
    daemon.join(120)
    assert daemon.exitcode == 0


def test_a_script_without_a_main_guard_runs_its_top_level_once(rle_series: Path, tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text("from medskills.dicom import read_dicom_series\n"
                      f"volume = read_dicom_series({str(rle_series)!r}, decode_workers=2).volume\n"
                      "print('read', volume.shape)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"read (20, 24, {_SLICES})"]
