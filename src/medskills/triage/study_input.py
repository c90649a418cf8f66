"""The first half of the one study pipeline: an input path -> series selection -> HU volume -> checks.

Accepted inputs are the service's: a ZIP of DICOM files, a folder of DICOM files, or a NIfTI CT
(``.nii``/``.nii.gz``). Every caller (``medskills triage predict``, ``extract-features``, the HTTP
routes and, through them, ``batch``) goes through :func:`read_checked_study`, so they accept and
refuse the same studies with the same ``error_code``.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from medskills.core.errors import InputError, PreflightError, StudyError, study_error
from medskills.dicom.archive import ArchiveLimits, inspect_zip
from medskills.dicom.assembly import read_dicom_series
from medskills.triage.chest import ChestCoverage, validate_chest
from medskills.triage.lungs import study_lungs
from medskills.triage.preprocessing import StudyInputs
from medskills.triage.series_policy import DEFAULT_MIN_SLICES, ChestCTSeriesPolicy
from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.ingest import read_dicom_zip
from medskills.dicom.nifti import NIFTI_SUFFIXES, nifti_study_name, read_nifti_volume
from medskills.dicom.selection import SeriesSelection, StudyRefusal
from medskills.dicom.volume import HUVolume

__all__ = [
    "CheckedStudy",
    "IngestOptions",
    "StudyFormat",
    "StudySource",
    "preflight_studies",
    "read_checked_study",
    "study_source",
]

logger = logging.getLogger(__name__)


class StudyFormat(StrEnum):
    """The three ways a study arrives."""

    DICOM_ZIP = "dicom_zip"
    DICOM_FOLDER = "dicom_folder"
    NIFTI = "nifti"


@dataclass(frozen=True)
class StudySource:
    """One study on disk; ``study_uid`` picks one study of a multi-study DICOM input."""

    path: Path
    format: StudyFormat
    study_uid: str | None = None


@dataclass(frozen=True)
class IngestOptions:
    """Reading limits shared by the service settings and the CLI defaults."""

    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    min_slices: int = DEFAULT_MIN_SLICES
    work_root: Path | None = None


@dataclass(frozen=True)
class CheckedStudy:
    """A study that passed every check: its volume, lung coverage and how its series was chosen.

    ``inputs`` hold what the checks derived (the lung segmentation), for the members to reuse.
    """

    volume: HUVolume
    inputs: StudyInputs
    coverage: ChestCoverage
    selection: SeriesSelection | None = None
    nested_archives: tuple[str, ...] = ()


def study_source(path: Path, *, study_uid: str | None = None) -> StudySource:
    """Classify ``path`` as a DICOM ZIP, DICOM folder or NIfTI file.

    Raises:
        InputError: the path does not exist.
        StudyError: ``unsupported_file_type`` for any other file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist; pass a ZIP of DICOM files, a DICOM folder or a .nii/.nii.gz file.")
    if path.is_dir():
        return StudySource(path, StudyFormat.DICOM_FOLDER, study_uid)
    name = path.name.lower()
    if name.endswith(".zip"):
        return StudySource(path, StudyFormat.DICOM_ZIP, study_uid)
    if name.endswith(NIFTI_SUFFIXES):
        return StudySource(path, StudyFormat.NIFTI, study_uid)
    raise study_error(DicomErrorCode.UNSUPPORTED_FILE_TYPE, f"{path}: expected a .zip of DICOM files, a folder of "
                      "DICOM files, or a NIfTI file ending in .nii or .nii.gz.")


def read_checked_study(source: StudySource, *, options: IngestOptions) -> CheckedStudy:
    """Read the study, select its series, build the HU volume, and check HU scale and chest coverage.

    Raises:
        StudyRefusal: any unusable study, with its ``error_code``, the series selection (DICOM) and,
            once a volume was read, its UIDs.
    """
    selection: SeriesSelection | None = None
    nested: tuple[str, ...] = ()
    if source.format is StudyFormat.NIFTI:
        volume = read_nifti_volume(source.path, limits=options.archive_limits)  # HU scale: validate_chest
    else:
        policy = ChestCTSeriesPolicy(min_slices=options.min_slices)
        if source.format is StudyFormat.DICOM_ZIP:
            series = read_dicom_zip(source.path, limits=options.archive_limits, study_uid=source.study_uid,
                                    policy=policy, work_root=options.work_root or source.path.parent)
        else:
            series = read_dicom_series(source.path, study_uid=source.study_uid, policy=policy)
        assert isinstance(series.volume, HUVolume)  # the chest-CT policy admits CT only, read in HU
        volume, selection, nested = series.volume, series.selection, series.nested_archives
    inputs = StudyInputs(volume)
    try:
        coverage = validate_chest(volume, lungs=study_lungs(inputs))
    except StudyError as err:
        raise StudyRefusal(str(err), error_code=err.error_code, selection=selection,
                           study_uid=volume.study_uid, series_uid=volume.series_uid) from err
    logger.info("lungs %.0f mm over %d slices", coverage.lung_length_mm, coverage.longest_run_slices)
    return CheckedStudy(volume=volume, inputs=inputs, coverage=coverage, selection=selection, nested_archives=nested)


def preflight_studies(paths: list[Path], *, options: IngestOptions) -> list[tuple[StudySource, str]]:
    """Check every input is readable and names a distinct study, from headers only, before any compute.

    Returns:
        ``(source, study id)`` per path, in order; the id is the one the feature table will use.

    Raises:
        PreflightError: every problem found, listed together.
    """
    problems: list[str] = []
    found: list[tuple[StudySource, str]] = []
    first_path_of: dict[str, Path] = {}
    for path in paths:
        try:
            source = study_source(path)
            study_id = _peek_study_id(source, options)
        except (InputError, OSError) as err:
            problems.append(f"{path}: {err}")
            continue
        if study_id in first_path_of:
            problems.append(f"{path}: study id {study_id!r} is also the id of {first_path_of[study_id]}; feature rows "
                            "are keyed by study id, so pass each study once (NIfTI ids come from the file name).")
            continue
        first_path_of[study_id] = path
        found.append((source, study_id))
    if problems:
        raise PreflightError(f"{len(problems)} of {len(paths)} studies cannot be used:\n- " + "\n- ".join(problems),
                             problems)
    return found


def _peek_study_id(source: StudySource, options: IngestOptions) -> str:
    """The study id from headers only: NIfTI header and name, or the first DICOM header's StudyInstanceUID."""
    if source.format is StudyFormat.NIFTI:
        import nibabel as nib

        try:
            shape: tuple[int, ...] = tuple(getattr(nib.load(source.path), "shape", ()))  # header only, no voxels
        except Exception as err:  # nibabel raises many unrelated types for corrupt files
            raise study_error(DicomErrorCode.INVALID_NIFTI, f"not a readable NIfTI file ({err})") from err
        if len([n for n in shape if n > 1]) != 3:
            raise study_error(DicomErrorCode.INVALID_NIFTI, f"expected one 3D volume, got shape {tuple(shape)}")
        return f"nifti_{nifti_study_name(source.path)}"
    if source.format is StudyFormat.DICOM_ZIP:
        inventory = inspect_zip(source.path, options.archive_limits)
        with zipfile.ZipFile(source.path) as archive:
            for info in inventory.members:
                try:
                    with archive.open(info) as handle:
                        uid = _study_uid_of(handle)
                except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as err:
                    raise study_error(DicomErrorCode.ZIP_INVALID, f"ZIP entry {info.filename!r} cannot be read "
                                      f"({err}); the archive is corrupt or uses an unsupported compression "
                                      "method.") from err
                if uid:
                    return uid
    else:
        for path in sorted(p for p in source.path.rglob("*") if p.is_file()):
            with path.open("rb") as handle:
                uid = _study_uid_of(handle)
            if uid:
                return uid
    raise study_error(DicomErrorCode.NO_DICOM_SERIES, "no DICOM file with a StudyInstanceUID was found")


def _study_uid_of(handle: object) -> str | None:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(handle, stop_before_pixels=True,  # type: ignore[arg-type]
                                  specific_tags=["StudyInstanceUID"])
    except (InvalidDicomError, EOFError, OSError, ValueError):
        return None
    uid = dataset.get("StudyInstanceUID")
    return str(uid) if uid else None
