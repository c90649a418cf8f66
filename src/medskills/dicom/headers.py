"""Read every file's DICOM header once and group the instances by (study, series).

Headers are parsed with ``defer_size`` so the pixel data is not read here but stays reachable
from the same dataset: the assembly step decodes it without parsing the header a second time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medskills.core.errors import study_error
from medskills.dicom.errors import DicomErrorCode

__all__ = ["UID_MAX_LENGTH", "UID_PATTERN", "DicomInstance", "HeaderScan", "SeriesGroup", "group_series",
           "scan_headers"]

logger = logging.getLogger(__name__)

UID_PATTERN = r"^[0-9]+(\.[0-9]+)*$"
"""A DICOM UID as a request may name one: dot-separated digit runs, no empty component. Leading zeros are
let through: the standard forbids them, but archived studies carry them and DICOMweb clients accept them."""
UID_MAX_LENGTH = 64

_DEFER_PIXELS_ABOVE = "64 KB"
_REQUIRED_TAGS = ("SOPInstanceUID", "Rows", "Columns")


@dataclass(frozen=True)
class DicomInstance:
    """The header fields selection and assembly need, plus the dataset (pixels deferred)."""

    path: Path
    name: str  # what the user calls the file (its name in an uploaded ZIP): the name messages give
    study_uid: str
    series_uid: str
    sop_instance_uid: str
    modality: str
    image_type: tuple[str, ...]
    orientation: tuple[float, ...] | None
    position_mm: tuple[float, float, float] | None
    rows: int
    columns: int
    pixel_spacing_mm: tuple[float, float] | None
    slice_thickness_mm: float | None
    kernel: str
    gantry_tilt_deg: float
    number_of_frames: int
    dataset: Any  # pydicom.Dataset, pixel data deferred (pydicom is imported only when used)


@dataclass(frozen=True)
class SeriesGroup:
    """All instances that share one (StudyInstanceUID, SeriesInstanceUID)."""

    study_uid: str
    series_uid: str
    instances: tuple[DicomInstance, ...]


@dataclass(frozen=True)
class HeaderScan:
    """What a folder held: readable DICOM instances and the files that were not DICOM images."""

    instances: tuple[DicomInstance, ...]
    skipped_files: tuple[str, ...]


def scan_headers(paths: Iterable[Path], *, names: Mapping[Path, str] | None = None) -> HeaderScan:
    """Parse each file's header once; files that are not DICOM images are skipped and listed.

    ``names`` gives a file's name as its user knows it (its entry in an uploaded ZIP); default: its own.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    instances: list[DicomInstance] = []
    skipped: list[str] = []
    for path in sorted(Path(p) for p in paths):
        name = (names or {}).get(path, path.name)
        try:
            dataset = pydicom.dcmread(path, defer_size=_DEFER_PIXELS_ABOVE)
        except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as err:
            logger.debug("skipping %s: %s", name, type(err).__name__)
            skipped.append(name)
            continue
        if not all(tag in dataset for tag in _REQUIRED_TAGS) or "PixelData" not in dataset:
            skipped.append(name)
            continue
        instances.append(_instance(path, name, dataset))
    return HeaderScan(instances=tuple(instances), skipped_files=tuple(skipped))


def group_series(scan: HeaderScan, *, study_uid: str | None = None) -> list[SeriesGroup]:
    """Group by (study, series); several studies need ``study_uid`` to choose one.

    A blank (de-identified) StudyInstanceUID is replaced by a UID derived from the instances, the one the
    groups report, so that UID can be passed back as ``study_uid``.

    Raises:
        StudyError: ``no_dicom_series`` (nothing readable), ``multiple_studies`` (no choice made),
            ``study_not_found`` (the chosen study is absent).
    """
    if not scan.instances:
        raise study_error(DicomErrorCode.NO_DICOM_SERIES,
                          f"no DICOM image found ({len(scan.skipped_files)} files were not DICOM images); "
                          "pass the series' .dcm files (a folder, or a ZIP of it).")
    derived_study_uid = (_derived_uid("study", scan.instances)
                         if any(not instance.study_uid for instance in scan.instances) else "")

    def study_of(instance: DicomInstance) -> str:
        return instance.study_uid or derived_study_uid

    studies = sorted({study_of(instance) for instance in scan.instances})
    if study_uid is not None:
        if study_uid not in studies:
            raise study_error(DicomErrorCode.STUDY_NOT_FOUND,
                              f"study_uid {study_uid!r} is not in the upload; it holds {len(studies)} studies: "
                              f"{', '.join(studies)}.")
        studies = [study_uid]
    elif len(studies) > 1:
        raise study_error(DicomErrorCode.MULTIPLE_STUDIES,
                          f"the upload holds {len(studies)} studies ({', '.join(studies)}); upload one study, "
                          "or choose one with ?study_uid=.")
    grouped: dict[tuple[str, str], list[DicomInstance]] = defaultdict(list)
    for instance in scan.instances:
        if study_of(instance) == studies[0]:
            grouped[(studies[0], instance.series_uid)].append(instance)
    return [SeriesGroup(study_uid=study, series_uid=series or _derived_uid("series", members), instances=tuple(members))
            for (study, series), members in sorted(grouped.items())]


def _derived_uid(kind: str, instances: Iterable[DicomInstance]) -> str:
    """A stable UID for a blank (de-identified) Study/Series UID, derived from the SOP Instance UIDs."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[kind, *sorted(i.sop_instance_uid for i in instances)]))


def _instance(path: Path, name: str, dataset: Any) -> DicomInstance:
    spacing = _floats(dataset.get("PixelSpacing"))
    position = _floats(dataset.get("ImagePositionPatient"))
    return DicomInstance(
        path=path,
        name=name,
        study_uid=str(dataset.get("StudyInstanceUID", "") or ""),
        series_uid=str(dataset.get("SeriesInstanceUID", "") or ""),
        sop_instance_uid=str(dataset.get("SOPInstanceUID", "") or ""),
        modality=str(dataset.get("Modality", "") or "").upper(),
        image_type=tuple(str(v).upper() for v in _as_list(dataset.get("ImageType"))),
        orientation=_floats(dataset.get("ImageOrientationPatient")),
        position_mm=(position[0], position[1], position[2]) if position and len(position) == 3 else None,
        rows=int(dataset.Rows),
        columns=int(dataset.Columns),
        pixel_spacing_mm=(spacing[0], spacing[1]) if spacing and len(spacing) == 2 else None,
        slice_thickness_mm=_float(dataset.get("SliceThickness")),
        kernel=" ".join(str(v) for v in _as_list(dataset.get("ConvolutionKernel") or dataset.get("FilterType"))),
        gantry_tilt_deg=_float(dataset.get("GantryDetectorTilt")) or 0.0,
        number_of_frames=int(_float(dataset.get("NumberOfFrames")) or 1),
        dataset=dataset,
    )


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def _floats(value: Any) -> tuple[float, ...] | None:
    items = _as_list(value)
    try:
        return tuple(float(v) for v in items) if items else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
