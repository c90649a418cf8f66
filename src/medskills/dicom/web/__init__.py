"""DICOMweb in and out: QIDO-RS search, WADO-RS retrieval into a private folder, STOW-RS store.

Built on ``dicomweb-client`` (``pip install 'medskills[dicom]'``); every failure is a typed
:class:`DicomWebError` with its own :class:`DicomWebErrorCode`.
"""

from medskills.dicom.web.client import DicomWebServer
from medskills.dicom.web.errors import (
    DicomWebAuthFailed,
    DicomWebError,
    DicomWebErrorCode,
    DicomWebNoMatchingSeries,
    DicomWebNotFound,
    DicomWebPartialRetrieval,
    DicomWebServerError,
    DicomWebStoreFailed,
    DicomWebTimeout,
    DicomWebUnreachable,
)
from medskills.dicom.web.retrieval import (
    RemoteSeries,
    RetrievedSeries,
    RetrievedStudy,
    find_series,
    retrieve_series,
    retrieved_series_set,
    retrieved_study,
)
from medskills.dicom.web.settings import DicomWebSettings, load_dicomweb_settings

__all__ = [
    "DicomWebAuthFailed",
    "DicomWebError",
    "DicomWebErrorCode",
    "DicomWebNoMatchingSeries",
    "DicomWebNotFound",
    "DicomWebPartialRetrieval",
    "DicomWebServer",
    "DicomWebServerError",
    "DicomWebSettings",
    "DicomWebStoreFailed",
    "DicomWebTimeout",
    "DicomWebUnreachable",
    "RemoteSeries",
    "RetrievedSeries",
    "RetrievedStudy",
    "find_series",
    "load_dicomweb_settings",
    "retrieve_series",
    "retrieved_series_set",
    "retrieved_study",
]
