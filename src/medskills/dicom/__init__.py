"""DICOM and NIfTI study ingestion: safe ZIP extraction, series selection, HU volume assembly."""

from medskills.dicom.archive import ArchiveLimits, copy_stream_capped, extract_zip, inspect_zip, work_directory
from medskills.dicom.assembly import DicomSeries, read_dicom_files, read_dicom_series
from medskills.dicom.chest import (
    ChestCoverage,
    body_mask,
    check_hu_plausible,
    lung_mask,
    measure_chest_coverage,
    validate_chest,
)
from medskills.dicom.errors import SeriesSelectionError, StudyRefusal, TriageErrorCode, study_error
from medskills.dicom.ingest import read_dicom_zip
from medskills.dicom.kernels import KernelClass, classify_kernel
from medskills.dicom.nifti import read_nifti_volume
from medskills.dicom.selection import SeriesCandidate, SeriesSelection
from medskills.dicom.volume import HUVolume

__all__ = [
    "ArchiveLimits",
    "ChestCoverage",
    "DicomSeries",
    "HUVolume",
    "KernelClass",
    "SeriesCandidate",
    "SeriesSelection",
    "SeriesSelectionError",
    "StudyRefusal",
    "TriageErrorCode",
    "body_mask",
    "check_hu_plausible",
    "classify_kernel",
    "copy_stream_capped",
    "extract_zip",
    "inspect_zip",
    "lung_mask",
    "measure_chest_coverage",
    "read_dicom_files",
    "read_dicom_series",
    "read_dicom_zip",
    "read_nifti_volume",
    "study_error",
    "validate_chest",
    "work_directory",
]
