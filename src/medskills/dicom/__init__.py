"""The general DICOM layer: safe ZIP extraction, headers read once, series grouping and geometry,
parallel pixel decoding and assembly into one canonical volume, for any modality and plane.

What a capability accepts and prefers is a :class:`SeriesPolicy` it passes in (the chest-CT triage's
lives in :mod:`medskills.triage.series_policy`).
"""

from medskills.dicom.archive import ArchiveLimits, copy_stream_capped, extract_zip, inspect_zip, work_directory
from medskills.dicom.assembly import DicomSeries, read_dicom_files, read_dicom_series
from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.geometry import AcquisitionPlane
from medskills.dicom.headers import UID_MAX_LENGTH, UID_PATTERN
from medskills.dicom.ingest import read_dicom_zip
from medskills.dicom.nifti import read_nifti_volume
from medskills.dicom.selection import (
    AnySeriesPolicy,
    PolicyVerdict,
    SeriesCandidate,
    SeriesFacts,
    SeriesPolicy,
    SeriesSelection,
    SeriesSelectionError,
    StudyRefusal,
)
from medskills.dicom.volume import HUVolume

__all__ = [
    "UID_MAX_LENGTH",
    "UID_PATTERN",
    "AcquisitionPlane",
    "AnySeriesPolicy",
    "ArchiveLimits",
    "DicomErrorCode",
    "DicomSeries",
    "HUVolume",
    "PolicyVerdict",
    "SeriesCandidate",
    "SeriesFacts",
    "SeriesPolicy",
    "SeriesSelection",
    "SeriesSelectionError",
    "StudyRefusal",
    "copy_stream_capped",
    "extract_zip",
    "inspect_zip",
    "read_dicom_files",
    "read_dicom_series",
    "read_dicom_zip",
    "read_nifti_volume",
    "work_directory",
]
