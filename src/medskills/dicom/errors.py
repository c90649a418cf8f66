"""The closed set of machine-readable reasons a study is refused, shared by the library and the API."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from medskills.core.errors import StudyError

if TYPE_CHECKING:
    from medskills.dicom.selection import SeriesSelection

__all__ = ["SeriesSelectionError", "StudyRefusal", "TriageErrorCode", "study_error"]


class TriageErrorCode(StrEnum):
    """Why an upload or study could not be analysed. The API maps each member to one HTTP status."""

    # request level
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    UPLOAD_TOO_LARGE = "upload_too_large"
    QUEUE_FULL = "queue_full"
    PREDICTOR_NOT_CONFIGURED = "predictor_not_configured"
    INTERNAL_ERROR = "internal_error"
    # archive safety
    ZIP_INVALID = "zip_invalid"
    ZIP_TOO_MANY_ENTRIES = "zip_too_many_entries"
    ZIP_TOO_LARGE = "zip_too_large"
    ZIP_BOMB = "zip_bomb"
    ZIP_PATH_TRAVERSAL = "zip_path_traversal"
    ZIP_SYMLINK = "zip_symlink"
    ZIP_ENCRYPTED = "zip_encrypted"
    ZIP_DUPLICATE_NAMES = "zip_duplicate_names"
    # study content
    NO_DICOM_SERIES = "no_dicom_series"
    MULTIPLE_STUDIES = "multiple_studies"
    STUDY_NOT_FOUND = "study_not_found"
    NO_USABLE_SERIES = "no_usable_series"
    NOT_ENOUGH_SLICES = "not_enough_slices"
    MISSING_SLICES = "missing_slices"
    IRREGULAR_SLICE_SPACING = "irregular_slice_spacing"
    MIXED_ORIENTATION = "mixed_orientation"
    INCONSISTENT_GEOMETRY = "inconsistent_geometry"
    NOT_AXIAL = "not_axial"
    NOT_ORIGINAL_IMAGE = "not_original_image"
    MULTIFRAME_UNSUPPORTED = "multiframe_unsupported"
    GANTRY_TILT = "gantry_tilt"
    UNSUPPORTED_TRANSFER_SYNTAX = "unsupported_transfer_syntax"
    TRUNCATED_FILE = "truncated_file"
    INVALID_NIFTI = "invalid_nifti"
    # chest validation
    NOT_CT = "not_ct"
    HU_IMPLAUSIBLE = "hu_implausible"
    LUNGS_NOT_FOUND = "lungs_not_found"
    LUNGS_TOO_SHORT = "lungs_too_short"


def study_error(code: TriageErrorCode, message: str) -> StudyError:
    """Build the :class:`StudyError` for ``code``; callers ``raise study_error(...)``."""
    return StudyError(message, error_code=code)


class StudyRefusal(StudyError):
    """A refused study that still reports its series selection (``None`` when there was none) and,
    once a volume was read, its UIDs."""

    def __init__(self, message: str, *, error_code: TriageErrorCode, selection: SeriesSelection | None,
                 study_uid: str = "", series_uid: str = "") -> None:
        super().__init__(message, error_code=error_code)
        self.selection = selection
        self.study_uid = study_uid
        self.series_uid = series_uid


class SeriesSelectionError(StudyRefusal):
    """No series of the study is usable; ``selection`` lists every candidate and why it was refused."""
