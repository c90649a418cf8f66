"""Machine-readable reasons the DICOM layer cannot read a study, whatever the capability asks of it.

Capabilities add their own policy codes (for example ``medskills.triage.errors.TriageErrorCode``);
every code travels as :attr:`medskills.core.errors.StudyError.error_code`.
"""

from __future__ import annotations

from enum import StrEnum


__all__ = ["DicomErrorCode"]


class DicomErrorCode(StrEnum):
    """Why an upload, archive or series could not be turned into a volume."""

    # uploads and archives
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    UPLOAD_TOO_LARGE = "upload_too_large"
    ZIP_INVALID = "zip_invalid"
    ZIP_TOO_MANY_ENTRIES = "zip_too_many_entries"
    ZIP_TOO_LARGE = "zip_too_large"
    ZIP_BOMB = "zip_bomb"
    ZIP_PATH_TRAVERSAL = "zip_path_traversal"
    ZIP_SYMLINK = "zip_symlink"
    ZIP_ENCRYPTED = "zip_encrypted"
    ZIP_DUPLICATE_NAMES = "zip_duplicate_names"
    NIFTI_TOO_LARGE = "nifti_too_large"
    # studies and series
    NO_DICOM_SERIES = "no_dicom_series"
    MULTIPLE_STUDIES = "multiple_studies"
    STUDY_NOT_FOUND = "study_not_found"
    NO_USABLE_SERIES = "no_usable_series"
    NOT_ENOUGH_SLICES = "not_enough_slices"
    MISSING_SLICES = "missing_slices"
    IRREGULAR_SLICE_SPACING = "irregular_slice_spacing"
    MIXED_ORIENTATION = "mixed_orientation"
    INCONSISTENT_GEOMETRY = "inconsistent_geometry"
    MULTIFRAME_UNSUPPORTED = "multiframe_unsupported"
    GANTRY_TILT = "gantry_tilt"
    # pixel data and files
    UNSUPPORTED_TRANSFER_SYNTAX = "unsupported_transfer_syntax"
    TRUNCATED_FILE = "truncated_file"
    INVALID_NIFTI = "invalid_nifti"



