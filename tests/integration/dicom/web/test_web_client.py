"""The DICOMweb client (dicom/web/client.py) against a real private Orthanc: QIDO-RS searches, and each way
a server fails (authentication, unreachable, silent, not configured) as its typed error."""

from __future__ import annotations

import logging
from pathlib import Path

import pydicom
import pytest

from medskills.core.errors import ExitCode
from medskills.dicom.web import (
    DicomWebAuthFailed,
    DicomWebErrorCode,
    DicomWebServer,
    DicomWebTimeout,
    DicomWebUnreachable,
)
from dicomweb_support.fixtures import ct_series_dir, orthanc, stored_ct  # noqa: F401  (pytest fixtures, used by name)
from dicomweb_support.orthanc import OrthancServer, running_orthanc
from dicomweb_support.studies import settings_for, silent_server

pytestmark = pytest.mark.network_local


def test_qido_study_search_filters_by_date_range_and_modality(
        orthanc: OrthancServer, stored_ct: tuple[str, str, int], ct_series_dir: Path) -> None:
    study_uid, _, _ = stored_ct
    server = DicomWebServer(settings_for(orthanc))
    found = server.search_studies({"ModalitiesInStudy": "CT"})
    assert study_uid in {str(item.StudyInstanceUID) for item in found}
    date = str(pydicom.dcmread(next(ct_series_dir.iterdir())).StudyDate)
    assert study_uid in {str(i.StudyInstanceUID) for i in server.search_studies({"StudyDate": f"{date}-{date}"})}
    assert server.search_studies({"StudyDate": "19000101-19000102"}) == []
    assert server.search_studies({"ModalitiesInStudy": "MR"}) == []


def test_wrong_password_is_an_authentication_failure_without_the_password(orthanc: OrthancServer) -> None:
    server = DicomWebServer(settings_for(orthanc, password="not-the-password"))
    with pytest.raises(DicomWebAuthFailed) as caught:
        server.search_studies({})
    assert caught.value.error_code is DicomWebErrorCode.AUTHENTICATION_FAILED
    assert "401" in str(caught.value) and "not-the-password" not in str(caught.value)
    assert caught.value.exit_code == ExitCode.USAGE


def test_no_credentials_is_an_authentication_failure(orthanc: OrthancServer) -> None:
    with pytest.raises(DicomWebAuthFailed):
        DicomWebServer(settings_for(orthanc, username=None, password=None)).search_series("1.2.3")


def test_stopped_server_is_unreachable_after_bounded_retries(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with running_orthanc(tmp_path / "short-lived") as server:
        settings = settings_for(server, max_attempts=3, backoff_seconds=0.01)
    with caplog.at_level(logging.WARNING, logger="urllib3"), pytest.raises(DicomWebUnreachable) as caught:
        DicomWebServer(settings).search_studies({})
    assert caught.value.error_code is DicomWebErrorCode.SERVER_UNREACHABLE
    assert "3 attempt(s)" in str(caught.value) and caught.value.exit_code == ExitCode.FAILED
    assert [r.getMessage().startswith("Retrying") for r in caplog.records].count(True) == 2


def test_server_that_never_answers_is_a_timeout(orthanc: OrthancServer) -> None:
    with silent_server() as url:
        settings = settings_for(orthanc, url=url, timeout_seconds=0.3, max_attempts=2, backoff_seconds=0.0)
        with pytest.raises(DicomWebTimeout) as caught:
            DicomWebServer(settings).search_series("1.2.3")
    assert caught.value.error_code is DicomWebErrorCode.SERVER_TIMEOUT
    assert caught.value.exit_code == ExitCode.TIMEOUT


def test_unconfigured_server_names_the_variable() -> None:
    from medskills.dicom.web import DicomWebSettings

    with pytest.raises(DicomWebUnreachable, match="MEDSKILLS_DICOMWEB_URL"):
        DicomWebServer(DicomWebSettings(url=""))
