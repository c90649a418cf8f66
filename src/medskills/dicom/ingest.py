"""From an uploaded ZIP to a decoded series, with every temporary file removed afterwards."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from medskills.core.errors import StudyError, study_error
from medskills.dicom.archive import ArchiveLimits, extract_zip, work_directory
from medskills.dicom.assembly import DicomSeries, read_dicom_files
from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.selection import SeriesPolicy

__all__ = ["read_dicom_zip"]


def read_dicom_zip(zip_path: Path, *, policy: SeriesPolicy | None = None, limits: ArchiveLimits | None = None,
                   study_uid: str | None = None, work_root: Path | None = None,
                   decode_workers: int | None = None) -> DicomSeries:
    """Inspect and extract ``zip_path`` into a private folder under ``work_root``, then read the series.

    The extracted files are deleted before returning (or raising); the volume is already decoded.
    ``policy`` and ``decode_workers`` are those of :func:`medskills.dicom.read_dicom_files`.

    Raises:
        StudyError: archive problems (``zip_*``) or study problems (see ``read_dicom_files``).
    """
    limits = limits or ArchiveLimits()
    with work_directory(work_root) as folder:
        extracted = extract_zip(Path(zip_path), folder, limits)
        try:
            series = read_dicom_files(list(extracted.files), policy=policy, study_uid=study_uid,
                                      source=Path(zip_path), decode_workers=decode_workers,
                                      names=extracted.entry_names)
        except StudyError as err:
            if err.error_code != DicomErrorCode.NO_DICOM_SERIES or not extracted.nested_archives:
                raise
            nested = ", ".join(extracted.nested_archives[:5]) + (", ..." if len(extracted.nested_archives) > 5 else "")
            raise study_error(DicomErrorCode.NO_DICOM_SERIES,
                              f"{err} The ZIP holds {len(extracted.nested_archives)} archive(s) that are not opened "
                              f"({nested}): unzip them and upload one ZIP of the DICOM files.") from err
    return replace(series, nested_archives=extracted.nested_archives)
