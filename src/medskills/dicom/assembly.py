"""Decode the chosen series into one canonical RAS+ volume, for any modality and plane.

Headers are parsed once (:mod:`medskills.dicom.headers`); the selection policy is a parameter
(:mod:`medskills.dicom.selection`); compressed pixels are decoded on every core
(:mod:`medskills.dicom.decoding`). Each decoded slice is rescaled with its own slope and
intercept and written straight into its place in the canonical grid: no second copy of the volume.
CT comes out in HU as :class:`HUVolume`; other modalities as an :class:`ImageVolume` in scanner units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medskills.core.image_volume import ImageVolume, VolumeOrientation, VolumeUnits, canonical_transform
from medskills.dicom._frames import FrameDecodeError, encoded_frame
from medskills.dicom.decoding import decode_frames
from medskills.core.errors import study_error
from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.geometry import voxel_to_ras_affine
from medskills.dicom.headers import DicomInstance, group_series, scan_headers
from medskills.dicom.selection import SelectedSeries, SeriesPolicy, SeriesSelection, select_series
from medskills.dicom.volume import HUVolume

__all__ = ["DicomSeries", "assemble_volume", "read_dicom_files", "read_dicom_series"]


@dataclass(frozen=True)
class DicomSeries:
    """A decoded series: the volume, its source files in volume slice order (axis 2), the selection.

    ``volume`` is an :class:`HUVolume` for CT. ``skipped_files`` were not DICOM images;
    ``nested_archives`` were archives inside the upload, ignored.
    """

    volume: ImageVolume
    source_paths: tuple[Path, ...]
    selection: SeriesSelection
    skipped_files: tuple[str, ...] = ()
    nested_archives: tuple[str, ...] = ()


def read_dicom_series(directory: Path, *, policy: SeriesPolicy | None = None, study_uid: str | None = None,
                      decode_workers: int | None = None) -> DicomSeries:
    """Read every file under ``directory`` (recursively), choose a series under ``policy`` and decode it.

    Args:
        directory: a folder of DICOM files (other files are skipped and listed).
        policy: which series are acceptable and preferred (default: any modality and plane).
        study_uid: the study to read when the folder holds several.
        decode_workers: processes decoding compressed pixels (default: one per core; 1 = this process).

    Raises:
        StudyError: nothing usable (see :class:`medskills.dicom.DicomErrorCode` and the policy's codes).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise study_error(DicomErrorCode.NO_DICOM_SERIES, f"{directory} is not a folder of DICOM files.")
    paths = [p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()]
    return read_dicom_files(paths, policy=policy, study_uid=study_uid, source=directory, decode_workers=decode_workers)


def read_dicom_files(paths: Sequence[Path], *, policy: SeriesPolicy | None = None, study_uid: str | None = None,
                     source: Path | None = None, decode_workers: int | None = None,
                     names: Mapping[Path, str] | None = None) -> DicomSeries:
    """Headers once -> group -> select -> decode; the shared pipeline of every DICOM reader.

    ``names`` are the files' names as the user knows them (ZIP entries), used in every message.
    """
    scan = scan_headers(paths, names=names)
    selected = select_series(group_series(scan, study_uid=study_uid), policy=policy)
    return assemble_volume(selected, source=source, skipped_files=scan.skipped_files, decode_workers=decode_workers)


def assemble_volume(selected: SelectedSeries, *, source: Path | None = None, skipped_files: tuple[str, ...] = (),
                    decode_workers: int | None = None) -> DicomSeries:
    """Decode, rescale and place every slice of ``selected`` in a canonical RAS+ float32 grid."""
    instances = selected.instances
    first = instances[0]
    transform = canonical_transform(voxel_to_ras_affine(instances), (first.columns, first.rows, len(instances)))
    # slice-major memory: each source slice lands in one contiguous block for axial series
    canonical = np.empty(transform.canonical_shape[::-1], dtype=np.float32).transpose(2, 1, 0)
    by_source_index = transform.source_view(canonical)  # [column, row, slice]
    _require_decoders(instances)
    try:
        frames = [encoded_frame(k, i.name, i.dataset) for k, i in enumerate(instances)]
        for k, stored in decode_frames(frames, workers=decode_workers):
            _place_slice(by_source_index[:, :, k], stored, instances[k])
    except FrameDecodeError as err:
        raise study_error(DicomErrorCode.TRUNCATED_FILE, f"{err.file_name}: pixel data could not be decoded "
                          f"({err.detail}); the file is truncated or corrupt, re-export the series.") from err
    slice_order = list(range(len(instances)))
    if transform.is_flipped[transform.source_axis_for.index(2)]:
        slice_order.reverse()
    ordered = [instances[k] for k in slice_order]
    volume = _volume(canonical, transform.canonical_affine, transform.canonical_spacing_mm, selected, ordered, source)
    return DicomSeries(volume=volume, source_paths=tuple(i.path for i in ordered), selection=selected.selection,
                       skipped_files=skipped_files)


def _place_slice(target: np.ndarray, stored: np.ndarray, instance: DicomInstance) -> None:
    """``target[column, row] = stored[row, column] * slope + intercept`` in float32, in place."""
    dataset = instance.dataset
    slope = np.float32(float(dataset.get("RescaleSlope", 1.0) or 1.0))
    intercept = np.float32(float(dataset.get("RescaleIntercept", 0.0) or 0.0))
    if slope == 1.0:
        np.add(stored.T, intercept, out=target, casting="unsafe")
    else:
        np.multiply(stored.T, slope, out=target, casting="unsafe")
        target += intercept


def _volume(array: np.ndarray, affine: np.ndarray, spacing_mm: tuple[float, float, float], selected: SelectedSeries,
            ordered: list[DicomInstance], source: Path | None) -> ImageVolume:
    study_uid, series_uid = selected.group.study_uid, selected.group.series_uid
    sop_instance_uids = tuple(i.sop_instance_uid for i in ordered)
    if {i.modality for i in ordered} == {"CT"}:
        return HUVolume(array=array, affine=affine, spacing_mm=spacing_mm, study_uid=study_uid, series_uid=series_uid,
                        sop_instance_uids=sop_instance_uids, source_path=source)
    return ImageVolume(array=array, affine=affine, spacing_mm=spacing_mm, units=VolumeUnits.SIGNAL,
                       orientation=VolumeOrientation.CANONICAL_RAS, study_uid=study_uid, series_uid=series_uid,
                       sop_instance_uids=sop_instance_uids, source_path=source)


def _require_decoders(instances: tuple[DicomInstance, ...]) -> None:
    """Refuse a transfer syntax no installed pixel decoder handles, before decoding anything."""
    from pydicom.pixels.decoders.base import get_decoder

    syntaxes = {str(i.dataset.file_meta.get("TransferSyntaxUID", "unknown")): i for i in instances}
    for syntax, instance in syntaxes.items():
        try:
            is_available = get_decoder(syntax).is_available
        except NotImplementedError:
            is_available = False
        if not is_available:
            raise study_error(DicomErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
                              f"{instance.name}: transfer syntax {syntax} cannot be decoded here; install the "
                              "pylibjpeg plugins (pip install 'medskills[dicom]') or re-export the series "
                              "uncompressed.")
