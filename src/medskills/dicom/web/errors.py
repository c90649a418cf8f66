"""Why a DICOMweb exchange failed: one machine-readable code and one typed error per failure.

::

    DicomWebError (carries ``error_code``)
    ├── DicomWebUnreachable    (UpstreamFailure, 1)     server_unreachable: refused, reset, DNS
    ├── DicomWebTimeout        (UpstreamTimeout, 124)   server_timeout: no answer within the timeout
    ├── DicomWebAuthFailed     (EnvironmentProblem, 2)  authentication_failed: 401/403
    ├── DicomWebServerError    (UpstreamFailure, 1)     server_error: any other HTTP error status
    ├── DicomWebNotFound       (InputError, 2)          study_not_found / series_not_found
    ├── DicomWebNoMatchingSeries (InputError, 2)        no_series_of_modality / ambiguous_series
    ├── DicomWebPartialRetrieval (UpstreamFailure, 1)   partial_retrieval: fewer instances than QIDO reported
    └── DicomWebStoreFailed    (UpstreamFailure, 1)     store_failed: STOW-RS refused some instances
"""

from __future__ import annotations

from enum import StrEnum

from medskills.core.errors import EnvironmentProblem, InputError, MedskillsError, UpstreamFailure, UpstreamTimeout

__all__ = [
    "DicomWebAuthFailed",
    "DicomWebError",
    "DicomWebErrorCode",
    "DicomWebNoMatchingSeries",
    "DicomWebNotFound",
    "DicomWebPartialRetrieval",
    "DicomWebServerError",
    "DicomWebStoreFailed",
    "DicomWebTimeout",
    "DicomWebUnreachable",
]


class DicomWebErrorCode(StrEnum):
    """The closed set of DICOMweb failure reasons, shared by records, the CLI and the HTTP answers."""

    SERVER_UNREACHABLE = "dicomweb_server_unreachable"
    SERVER_TIMEOUT = "dicomweb_server_timeout"
    AUTHENTICATION_FAILED = "dicomweb_authentication_failed"
    SERVER_ERROR = "dicomweb_server_error"
    STUDY_NOT_FOUND = "dicomweb_study_not_found"
    SERIES_NOT_FOUND = "dicomweb_series_not_found"
    NO_SERIES_OF_MODALITY = "dicomweb_no_series_of_modality"
    AMBIGUOUS_SERIES = "dicomweb_ambiguous_series"
    PARTIAL_RETRIEVAL = "dicomweb_partial_retrieval"
    STORE_FAILED = "dicomweb_store_failed"


class DicomWebError(MedskillsError):
    """A DICOMweb failure; ``error_code`` says which one, ``str(err)`` what, where and how to fix it."""

    default_code: DicomWebErrorCode = DicomWebErrorCode.SERVER_ERROR

    def __init__(self, message: str, *, error_code: DicomWebErrorCode | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code or self.default_code


class DicomWebUnreachable(DicomWebError, UpstreamFailure):
    """No connection could be made (refused, reset, unknown host), after the bounded retries."""

    default_code = DicomWebErrorCode.SERVER_UNREACHABLE


class DicomWebTimeout(DicomWebError, UpstreamTimeout):
    """The server accepted the connection but did not answer within the timeout, after the retries."""

    default_code = DicomWebErrorCode.SERVER_TIMEOUT


class DicomWebAuthFailed(DicomWebError, EnvironmentProblem):
    """The server refused the credentials (HTTP 401 or 403)."""

    default_code = DicomWebErrorCode.AUTHENTICATION_FAILED


class DicomWebServerError(DicomWebError, UpstreamFailure):
    """The server answered with an HTTP error status other than 401, 403 or 404."""

    default_code = DicomWebErrorCode.SERVER_ERROR


class DicomWebNotFound(DicomWebError, InputError):
    """The study or series UID is not on the server."""

    default_code = DicomWebErrorCode.STUDY_NOT_FOUND


class DicomWebNoMatchingSeries(DicomWebError, InputError):
    """The study has no series of the wanted modality, or several and none was named."""

    default_code = DicomWebErrorCode.NO_SERIES_OF_MODALITY


class DicomWebPartialRetrieval(DicomWebError, UpstreamFailure):
    """WADO-RS returned fewer instances than QIDO-RS reported for the series."""

    default_code = DicomWebErrorCode.PARTIAL_RETRIEVAL


class DicomWebStoreFailed(DicomWebError, UpstreamFailure):
    """STOW-RS did not store every instance sent."""

    default_code = DicomWebErrorCode.STORE_FAILED
