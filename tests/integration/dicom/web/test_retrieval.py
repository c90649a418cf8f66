"""Finding and retrieving series (dicom/web/retrieval.py) from a real private Orthanc: round trip and failures."""

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
    find_series,
    retrieve_series,
    retrieved_study,
)

from dicomweb_support.fixtures import ct_series_dir, orthanc, stored_ct  # noqa: F401  (pytest fixtures, used by name)
from dicomweb_support.orthanc import OrthancServer
from dicomweb_support.studies import read_series_for_pacs, settings_for, store_folder

pytestmark = pytest.mark.network_local


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
