"""QIDO-RS, WADO-RS and STOW-RS against a real private Orthanc: the round trip and every failure."""

from __future__ import annotations

import logging
from pathlib import Path

import pydicom
import pytest

from medskills.core.errors import ExitCode
from medskills.dicom.web import (
    DicomWebAuthFailed,
    DicomWebErrorCode,
    DicomWebNoMatchingSeries,
    DicomWebNotFound,
    DicomWebPartialRetrieval,
    DicomWebServer,
    DicomWebTimeout,
    DicomWebUnreachable,
    find_series,
    retrieve_series,
    retrieved_study,
)

from dicomweb_support.fixtures import ct_series_dir, orthanc  # noqa: F401  (pytest fixtures, used by name)
from dicomweb_support.orthanc import OrthancServer, running_orthanc
from dicomweb_support.studies import read_series_for_pacs, settings_for, silent_server, store_folder

pytestmark = pytest.mark.network_local


@pytest.fixture(scope="module")
def stored_ct(orthanc: OrthancServer, ct_series_dir: Path) -> tuple[str, str, int]:
    """The real 20-slice CT series, stored once with STOW-RS."""
    return store_folder(orthanc, ct_series_dir)


def test_retrieved_study_holds_every_instance_and_is_removed_afterwards(
        orthanc: OrthancServer, stored_ct: tuple[str, str, int], ct_series_dir: Path) -> None:
    study_uid, series_uid, count = stored_ct
    server = DicomWebServer(settings_for(orthanc))
    with retrieved_study(server, study_uid=study_uid, modality="CT") as study:
        folder = study.folder
        assert [item.series.series_instance_uid for item in study.series] == [series_uid]
        assert study.instance_count == count == 20
        files = sorted(study.series[0].folder.glob("*.dcm"))
        originals = {str(ds.SOPInstanceUID): ds for ds in read_series_for_pacs(ct_series_dir)}
        for path in files:
            retrieved = pydicom.dcmread(path)
            assert retrieved.PixelData == originals[str(retrieved.SOPInstanceUID)].PixelData
    assert not folder.exists()


def test_kept_retrieval_stays_in_the_given_folder(orthanc: OrthancServer, stored_ct: tuple[str, str, int],
                                                  tmp_path: Path) -> None:
    study_uid, series_uid, _ = stored_ct
    with retrieved_study(DicomWebServer(settings_for(orthanc)), study_uid=study_uid,
                         keep_in=tmp_path / "kept") as study:
        pass
    assert len(list((tmp_path / "kept" / series_uid).glob("*.dcm"))) == study.instance_count == 20


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


def test_unknown_study_uid_is_study_not_found(orthanc: OrthancServer) -> None:
    with pytest.raises(DicomWebNotFound) as caught:
        find_series(DicomWebServer(settings_for(orthanc)), study_uid="1.2.3.4.5.6.7.8.9")
    assert caught.value.error_code is DicomWebErrorCode.STUDY_NOT_FOUND
    assert "1.2.3.4.5.6.7.8.9" in str(caught.value) and caught.value.exit_code == ExitCode.USAGE


def test_unknown_series_uid_lists_the_series_the_study_holds(orthanc: OrthancServer,
                                                             stored_ct: tuple[str, str, int]) -> None:
    study_uid, series_uid, _ = stored_ct
    with pytest.raises(DicomWebNotFound) as caught:
        find_series(DicomWebServer(settings_for(orthanc)), study_uid=study_uid, series_uid="1.2.3.999")
    assert caught.value.error_code is DicomWebErrorCode.SERIES_NOT_FOUND
    assert series_uid in str(caught.value)


def test_study_without_the_wanted_modality_is_refused_with_what_it_holds(
        orthanc: OrthancServer, stored_ct: tuple[str, str, int]) -> None:
    study_uid, series_uid, _ = stored_ct
    with pytest.raises(DicomWebNoMatchingSeries) as caught:
        find_series(DicomWebServer(settings_for(orthanc)), study_uid=study_uid, modality="MR")
    assert caught.value.error_code is DicomWebErrorCode.NO_SERIES_OF_MODALITY
    assert f"CT {series_uid}" in str(caught.value)


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


def test_instance_deleted_after_qido_makes_a_partial_retrieval(orthanc: OrthancServer, ct_series_dir: Path,
                                                               tmp_path: Path) -> None:
    """QIDO-RS reports 20 instances; one is then deleted on the server (Orthanc REST) before WADO-RS."""
    study_uid, series_uid, _ = store_folder(orthanc, ct_series_dir)
    server = DicomWebServer(settings_for(orthanc))
    [series] = find_series(server, study_uid=study_uid, series_uid=series_uid)
    assert series.reported_instance_count == 20
    instance_id = orthanc.rest("POST", "/tools/lookup", data=_first_sop_uid(ct_series_dir)).json()[0]["ID"]
    orthanc.rest("DELETE", f"/instances/{instance_id}")
    try:
        with pytest.raises(DicomWebPartialRetrieval) as caught:
            retrieve_series(server, series, tmp_path / "partial")
        assert caught.value.error_code is DicomWebErrorCode.PARTIAL_RETRIEVAL
        assert "19 instance(s) but QIDO-RS reported 20" in str(caught.value)
        assert not (tmp_path / "partial").exists()
    finally:
        store_folder(orthanc, ct_series_dir)  # the module's other tests expect the whole series


def test_unconfigured_server_names_the_variable() -> None:
    from medskills.dicom.web import DicomWebSettings

    with pytest.raises(DicomWebUnreachable, match="MEDSKILLS_DICOMWEB_URL"):
        DicomWebServer(DicomWebSettings(url=""))


def _first_sop_uid(folder: Path) -> str:
    return str(read_series_for_pacs(folder)[0].SOPInstanceUID)


def test_credentials_never_reach_the_logs_or_the_settings_repr(orthanc: OrthancServer, stored_ct: tuple[str, str, int],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(orthanc)
    with caplog.at_level(logging.DEBUG):
        with retrieved_study(DicomWebServer(settings), study_uid=stored_ct[0]):
            pass
        with pytest.raises(DicomWebAuthFailed):
            DicomWebServer(settings_for(orthanc, password="another-secret")).search_studies({})
    assert caplog.records  # dicomweb-client and urllib3 did log at DEBUG
    text = caplog.text + repr(settings) + settings.model_dump_json()
    assert orthanc.auth[1] not in text and "another-secret" not in text
