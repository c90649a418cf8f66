"""Decode the chosen series into one canonical RAS+ :class:`HUVolume`.

Pixels are decoded by pydicom 3 (compressed syntaxes through the installed pylibjpeg plugins),
rescaled to HU with each slice's slope/intercept, stacked in slice-normal order, and reoriented
to RAS+ once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medskills.dicom._canonical import to_canonical_ras
from medskills.dicom.errors import TriageErrorCode, study_error
from medskills.dicom.headers import DicomInstance, group_series, scan_headers
from medskills.dicom.selection import SelectedSeries, SeriesSelection, select_series
from medskills.dicom.volume import HUVolume

__all__ = ["DicomSeries", "assemble_volume", "read_dicom_files", "read_dicom_series"]

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class DicomSeries:
    """A decoded series: the volume, its source files in volume slice order (axis 2), the selection.

    ``skipped_files`` were not DICOM images; ``nested_archives`` were archives inside the upload,
    ignored.
    """

    volume: HUVolume
    source_paths: tuple[Path, ...]
    selection: SeriesSelection
    skipped_files: tuple[str, ...] = ()
    nested_archives: tuple[str, ...] = ()


def read_dicom_series(directory: Path, *, study_uid: str | None = None, min_slices: int = 2) -> DicomSeries:
    """Read every file under ``directory`` (recursively), choose the best series and decode it.

    Raises:
        StudyError: nothing usable (see :class:`medskills.dicom.TriageErrorCode` for the codes).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise study_error(TriageErrorCode.NO_DICOM_SERIES, f"{directory} is not a folder of DICOM files.")
    paths = [p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()]
    return read_dicom_files(paths, study_uid=study_uid, min_slices=min_slices, source=directory)


def read_dicom_files(paths: Sequence[Path], *, study_uid: str | None = None, min_slices: int = 2,
                     source: Path | None = None) -> DicomSeries:
    """Headers once -> group -> select -> decode; the shared pipeline of every DICOM reader."""
    scan = scan_headers(paths)
    selected = select_series(group_series(scan, study_uid=study_uid), min_slices=min_slices)
    return assemble_volume(selected, source=source, skipped_files=scan.skipped_files)


def assemble_volume(selected: SelectedSeries, *, source: Path | None = None,
                    skipped_files: tuple[str, ...] = ()) -> DicomSeries:
    """Decode, rescale to HU, stack along the normal and reorient to RAS+."""
    instances = selected.instances
    first = instances[0]
    volume = np.empty((first.columns, first.rows, len(instances)), dtype=np.float32)
    for k, instance in enumerate(instances):
        volume[:, :, k] = _hu_slice(instance).T
    canonical = to_canonical_ras(volume, _lps_affine(instances))
    slice_order = list(range(len(instances)))
    if canonical.is_flipped[2]:
        slice_order.reverse()
    ordered = [instances[k] for k in slice_order]
    study_uid, series_uid = selected.group.study_uid, selected.group.series_uid
    hu = HUVolume(
        array=canonical.array, affine=canonical.affine, spacing_mm=canonical.spacing_mm, study_uid=study_uid,
        series_uid=series_uid, sop_instance_uids=tuple(i.sop_instance_uid for i in ordered), source_path=source,
    )
    return DicomSeries(volume=hu, source_paths=tuple(i.path for i in ordered), selection=selected.selection,
                       skipped_files=skipped_files)


def _require_decoder(instance: DicomInstance) -> None:
    """Refuse a transfer syntax no installed pixel decoder handles, before trying to decode."""
    from pydicom.pixels import get_decoder

    syntax = instance.dataset.file_meta.get("TransferSyntaxUID", "unknown")
    try:
        is_available = get_decoder(syntax).is_available
    except NotImplementedError:
        is_available = False
    if not is_available:
        raise study_error(TriageErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
                          f"{instance.path.name}: transfer syntax {syntax} cannot be decoded here; install the "
                          "pylibjpeg plugins (pip install 'medskills[dicom]') or re-export the series uncompressed.")


def _hu_slice(instance: DicomInstance) -> np.ndarray:
    dataset = instance.dataset
    _require_decoder(instance)
    try:
        pixels = dataset.pixel_array
    except (NotImplementedError, RuntimeError) as err:
        raise _truncated(instance, err) from err
    except (ValueError, EOFError, OSError, AttributeError, KeyError) as err:
        raise _truncated(instance, err) from err
    if pixels.shape != (instance.rows, instance.columns):
        raise _truncated(instance, ValueError(f"decoded shape {pixels.shape}"))
    slope = float(dataset.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(dataset.get("RescaleIntercept", 0.0) or 0.0)
    return pixels.astype(np.float32) * np.float32(slope) + np.float32(intercept)


def _truncated(instance: DicomInstance, err: Exception):
    return study_error(TriageErrorCode.TRUNCATED_FILE,
                       f"{instance.path.name}: pixel data could not be decoded ({type(err).__name__}: {err}); the "
                       "file is truncated or corrupt, re-export the series.")


def _lps_affine(instances: tuple[DicomInstance, ...]) -> np.ndarray:
    """Voxel (column, row, slice) -> RAS mm, from the first slice and the slice-to-slice step."""
    first = instances[0]
    assert first.orientation is not None and first.position_mm is not None and first.pixel_spacing_mm is not None
    row_direction = np.asarray(first.orientation[:3])
    column_direction = np.asarray(first.orientation[3:])
    row_spacing, column_spacing = first.pixel_spacing_mm
    origin = np.asarray(first.position_mm)
    last = instances[-1].position_mm
    assert last is not None
    if len(instances) > 1:
        slice_step = (np.asarray(last) - origin) / (len(instances) - 1)
    else:
        slice_step = np.cross(row_direction, column_direction) * (first.slice_thickness_mm or 1.0)
    affine = np.eye(4)
    affine[:3, 0] = row_direction * column_spacing
    affine[:3, 1] = column_direction * row_spacing
    affine[:3, 2] = slice_step
    affine[:3, 3] = origin
    return _LPS_TO_RAS @ affine
