"""DICOM and NIfTI study ingestion: safe ZIP extraction, series selection, HU volume assembly."""

from medskills.dicom.archive import ArchiveLimits, copy_stream_capped, extract_zip, inspect_zip, work_directory
from medskills.dicom.assembly import DicomSeries, read_dicom_files, read_dicom_series
from medskills.dicom.errors import SeriesSelectionError, StudyRefusal, TriageErrorCode, study_error
from medskills.dicom.ingest import read_dicom_zip
from medskills.dicom.kernels import KernelClass, classify_kernel
from medskills.dicom.nifti import read_nifti_volume
from medskills.dicom.selection import SeriesCandidate, SeriesSelection
from medskills.dicom.volume import HUVolume

__all__ = [
    "ArchiveLimits",
    "DicomSeries",
    "HUVolume",
    "KernelClass",
    "SeriesCandidate",
    "SeriesSelection",
    "SeriesSelectionError",
    "StudyRefusal",
    "TriageErrorCode",
    "classify_kernel",
    "copy_stream_capped",
    "extract_zip",
    "inspect_zip",
    "read_dicom_files",
    "read_dicom_series",
    "read_dicom_zip",
    "read_nifti_volume",
    "study_error",
    "work_directory",
]
