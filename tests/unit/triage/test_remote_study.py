"""Triage of a study held on a DICOMweb server: retrieve its CT series completely, run the one pipeline, store SR/SEG.

The server is :class:`FakeDicomWebClient`, standing in for ``dicomweb_client.DICOMwebClient`` behind the real
:class:`DicomWebServer` (its error translation and completeness checks run as they do against Orthanc). It serves
real Part 10 files: a short chest phantom (22 axial CT slices of 8 mm, lungs over 160 mm: it passes every chest
check), the same body without lungs (``lungs_not_found``) and small MR series.
``tests/integration/triage/api/test_routes_study.py`` runs the same function against a real Orthanc.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
import pytest
import requests
from pydantic import ValidationError
from pydicom import Dataset

from dicom_support.builders import chest_phantom, write_series, write_volume_series
from medskills.core.errors import ExitCode
from medskills.dicom.selection import StudyRefusal
from medskills.dicom.volume import HUVolume
from medskills.dicom.web import (
    DicomWebErrorCode,
    DicomWebNoMatchingSeries,
    DicomWebNotFound,
    DicomWebPartialRetrieval,
    DicomWebServer,
    DicomWebSettings,
    DicomWebStoreFailed,
)
from medskills.triage.prediction import Predictor
from medskills.triage.remote_study import RemoteStudyRequest, analyse_remote_study
from medskills.triage.study_input import IngestOptions
from triage_service_support.predictors import FixedPredictor

URL = "http://pacs.test/dicom-web"
STUDY_UID = "1.2.826.0.1.77"
CHEST_SERIES_UID = f"{STUDY_UID}.1"
SECOND_CHEST_SERIES_UID = f"{STUDY_UID}.2"
MR_SERIES_UID = f"{STUDY_UID}.3"
LUNGLESS_STUDY_UID = "1.2.826.0.1.78"
MR_STUDY_UID = "1.2.826.0.1.79"
PROCESSING_FAILURE = 0x0110  # DICOM C-STORE status "Processing failure", as a STOW-RS FailureReason
SLICES = 22


class FakeDicomWebClient:
    """Answers the ``DICOMwebClient`` calls medskills makes from the Part 10 files it holds, as a server would.

    QIDO-RS answers DICOM JSON with the series-level return keys of PS3.18 (the instance count included);
    WADO-RS parses each held file with pydicom, lazily, as ``dicomweb-client`` parses each multipart part; STOW-RS
    keeps the encoded instances (QIDO-RS then finds them) and acknowledges them in a ``ReferencedSOPSequence``.
    Knobs: ``withheld`` (instances WADO-RS leaves out though QIDO-RS counts them), ``breaks_after`` (the
    response stream fails after that many instances), ``garbled_at`` (the part at that position is not
    DICOM, so parsing it fails as dicomweb-client's would), ``is_count_reported``, ``is_store_refused``.
    """

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], list[bytes]] = {}
        self.withheld: dict[str, int] = {}
        self.breaks_after: dict[str, int] = {}
        self.garbled_at: dict[str, int] = {}
        self.is_count_reported = True
        self.is_store_refused = False
        self.retrieved: list[str] = []
        self.store_requests: list[list[Dataset]] = []

    def hold(self, paths: Sequence[Path]) -> None:
        """Put Part 10 files on the server (as a modality's C-STORE would)."""
        for path in paths:
            header = pydicom.dcmread(path, stop_before_pixels=True)
            key = (str(header.StudyInstanceUID), str(header.SeriesInstanceUID))
            self.files.setdefault(key, []).append(path.read_bytes())

    def search_for_series(self, study_instance_uid: str | None = None, fuzzymatching: bool | None = None,
                          limit: int | None = None, offset: int | None = None, fields: Sequence[str] | None = None,
                          search_filters: dict[str, Any] | None = None, get_remaining: bool = False,
                          additional_params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found = []
        for (study_uid, series_uid), parts in self.files.items():
            if study_instance_uid is not None and study_uid != study_instance_uid:
                continue
            header = pydicom.dcmread(BytesIO(parts[0]), stop_before_pixels=True)
            item = Dataset()
            item.StudyInstanceUID, item.SeriesInstanceUID, item.Modality = study_uid, series_uid, header.Modality
            item.SeriesNumber = header.get("SeriesNumber", 1)
            if self.is_count_reported:
                item.NumberOfSeriesRelatedInstances = len(parts)
            found.append(item.to_json_dict())
        return found

    def iter_series(self, study_instance_uid: str, series_instance_uid: str,
                    media_types: tuple[str | tuple[str, str], ...] | None = None,
                    additional_params: dict[str, Any] | None = None) -> Iterator[Dataset]:
        parts = self.files.get((study_instance_uid, series_instance_uid))
        if parts is None:
            raise _http_error(404)
        self.retrieved.append(series_instance_uid)
        served = parts[: len(parts) - self.withheld.get(series_instance_uid, 0)]
        if series_instance_uid in self.garbled_at:
            served = [b"not a DICOM part" if i == self.garbled_at[series_instance_uid] else part
                      for i, part in enumerate(served)]
        return self._stream(served, breaks_after=self.breaks_after.get(series_instance_uid))

    @staticmethod
    def _stream(parts: list[bytes], *, breaks_after: int | None) -> Iterator[Dataset]:
        for index, part in enumerate(parts):
            if index == breaks_after:
                raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
            yield pydicom.dcmread(BytesIO(part))

    def store_instances(self, datasets: Sequence[Dataset], study_instance_uid: str | None = None,
                        additional_params: dict[str, Any] | None = None) -> Dataset:
        self.store_requests.append(list(datasets))
        answer = Dataset()
        items = []
        for dataset in datasets:
            item = Dataset()
            item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = dataset.SOPClassUID, dataset.SOPInstanceUID
            if self.is_store_refused:
                item.FailureReason = PROCESSING_FAILURE
            else:
                encoded = BytesIO()
                pydicom.dcmwrite(encoded, dataset)
                key = (str(dataset.StudyInstanceUID), str(dataset.SeriesInstanceUID))
                self.files.setdefault(key, []).append(encoded.getvalue())
            items.append(item)
        if self.is_store_refused:
            answer.FailedSOPSequence = items
        else:
            answer.ReferencedSOPSequence = items
        return answer

    def search_for_instances(self, study_instance_uid: str | None = None, series_instance_uid: str | None = None,
                             fuzzymatching: bool | None = None, limit: int | None = None, offset: int | None = None,
                             fields: Sequence[str] | None = None, search_filters: dict[str, Any] | None = None,
                             get_remaining: bool = False,
                             additional_params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found = []
        for (study_uid, series_uid), parts in self.files.items():
            if study_uid != study_instance_uid or series_uid != series_instance_uid:
                continue
            for part in parts:
                header = pydicom.dcmread(BytesIO(part), stop_before_pixels=True)
                item = Dataset()
                item.StudyInstanceUID, item.SeriesInstanceUID = study_uid, series_uid
                item.SOPClassUID, item.SOPInstanceUID = header.SOPClassUID, header.SOPInstanceUID
                found.append(item.to_json_dict())
        return found

    def stored_of_modality(self, modality: str) -> list[Dataset]:
        """Every instance the STOW-RS requests sent of ``modality`` (SR, SEG)."""
        return [dataset for request in self.store_requests for dataset in request if dataset.Modality == modality]


def _http_error(status: int) -> requests.HTTPError:
    """What ``dicomweb-client`` raises for an HTTP error status (``response.raise_for_status()``)."""
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} Client Error", response=response)


def _short_chest(*, lung_slices: tuple[int, int] = (1, SLICES - 1), seed: int = 0) -> HUVolume:
    """The chest phantom cut to 22 slices of 8 mm (few instances to move), lungs over 160 mm as the checks need."""
    return chest_phantom(slices=SLICES, lung_slices=lung_slices, spacing_mm=8.0, seed=seed)


@pytest.fixture(scope="module")
def series_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Part 10 files per series: two chest CT series and an MR series of one study; a lungless CT; an MR study."""
    root = tmp_path_factory.mktemp("series")
    folders = {name: root / name for name in ("chest", "second_chest", "mr", "lungless", "mr_study")}
    for folder in folders.values():
        folder.mkdir()
    return {
        "chest": write_volume_series(folders["chest"], _short_chest(), study_uid=STUDY_UID,
                                     series_uid=CHEST_SERIES_UID),
        "second_chest": write_volume_series(folders["second_chest"], _short_chest(seed=1), study_uid=STUDY_UID,
                                            series_uid=SECOND_CHEST_SERIES_UID),
        "mr": write_series(folders["mr"], modality="MR", study_uid=STUDY_UID, series_uid=MR_SERIES_UID),
        "lungless": write_volume_series(folders["lungless"], _short_chest(lung_slices=(1, 1)),
                                        study_uid=LUNGLESS_STUDY_UID, series_uid=f"{LUNGLESS_STUDY_UID}.1"),
        "mr_study": write_series(folders["mr_study"], modality="MR", study_uid=MR_STUDY_UID,
                                 series_uid=f"{MR_STUDY_UID}.1"),
    }


@pytest.fixture
def pacs(series_files: dict[str, list[Path]], monkeypatch: pytest.MonkeyPatch) -> FakeDicomWebClient:
    """A server holding the chest CT series; ``DicomWebServer`` talks to it instead of building a real client."""
    fake = FakeDicomWebClient()
    fake.hold(series_files["chest"])
    # the one place DicomWebServer builds its DICOMwebClient; everything around the client runs for real
    monkeypatch.setattr("medskills.dicom.web.client._build_client", lambda settings: fake)
    return fake


@pytest.fixture
def server(pacs: FakeDicomWebClient) -> DicomWebServer:
    return DicomWebServer(DicomWebSettings(url=URL))


@pytest.fixture
def work_root(tmp_path: Path) -> Path:
    """Where the retrieved instances go (checked empty afterwards)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


class CountingLoader:
    """A predictor loader that counts its calls and returns the fixed test predictor."""

    def __init__(self) -> None:
        self.calls = 0
        self.predictor = FixedPredictor()

    def __call__(self) -> Predictor:
        self.calls += 1
        return self.predictor


def _analyse(server: DicomWebServer, work_root: Path, predictor: Predictor | CountingLoader,
             **request: object) -> Any:
    return analyse_remote_study(RemoteStudyRequest.model_validate({"study_instance_uid": STUDY_UID, **request}),
                                server=server, predictor=predictor, options=IngestOptions(work_root=work_root))


def _ct_sources(series_files: dict[str, list[Path]], name: str) -> set[str]:
    return {str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID) for path in series_files[name]}


@pytest.mark.parametrize("method", ["search_for_series", "iter_series", "store_instances", "search_for_instances"])
def test_fake_client_methods_take_the_parameters_of_the_real_dicomweb_client(method: str) -> None:
    from dicomweb_client import DICOMwebClient

    real = inspect.signature(getattr(DICOMwebClient, method)).parameters
    fake = inspect.signature(getattr(FakeDicomWebClient, method)).parameters
    assert list(fake) == list(real)
    assert [p.default for p in fake.values()] == [p.default for p in real.values()]


@pytest.mark.parametrize("field", ["study_instance_uid", "series_instance_uid"])
@pytest.mark.parametrize("uid", ["../etc/passwd", "1.2.x", "", ".1.2", "1.2.", "1..2", "1" * 65])
def test_remote_study_request_refuses_a_uid_that_is_not_a_dotted_number(field: str, uid: str) -> None:
    values = {"study_instance_uid": STUDY_UID, field: uid}
    with pytest.raises(ValidationError, match=field):
        RemoteStudyRequest.model_validate(values)


@pytest.mark.parametrize("uid", ["1.2.840.10008.5.1.4.1.1.2", "2.25.3301", "1.2.04.7"])
def test_remote_study_request_takes_a_dotted_number_uid_leading_zeros_included(uid: str) -> None:
    assert RemoteStudyRequest(study_instance_uid=uid).study_instance_uid == uid


def test_remote_study_request_takes_every_ct_series_and_stores_nothing_by_default() -> None:
    request = RemoteStudyRequest(study_instance_uid=STUDY_UID)
    assert request.series_instance_uid is None and request.store_results is False


def test_analyse_remote_study_answers_from_the_retrieved_series_and_leaves_no_files_when_store_is_off(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    predictor = FixedPredictor()
    answer = _analyse(server, work_root, predictor)
    response = answer.response
    assert (response.study_uid, response.series_uid) == (STUDY_UID, CHEST_SERIES_UID)
    assert response.processing_status == "Success" and response.probability_of_pathology == 0.87
    assert response.chest_check is not None and response.chest_check.decided_by == "passed"
    assert answer.server_url == URL and answer.retrieved_series_instance_uids == [CHEST_SERIES_UID]
    assert answer.retrieved_instance_count == SLICES and predictor.seen == [(CHEST_SERIES_UID, (96, 96, SLICES))]
    assert answer.stored == [] and answer.store_notes == [] and pacs.store_requests == []
    assert list(work_root.iterdir()) == []


def test_analyse_remote_study_loads_the_predictor_once_when_given_a_loader(
    server: DicomWebServer, pacs: FakeDicomWebClient,
) -> None:
    loader = CountingLoader()
    answer = analyse_remote_study(RemoteStudyRequest(study_instance_uid=STUDY_UID), server=server, predictor=loader)
    assert loader.calls == 1 and answer.response.model_version == "test-pack-1"
    assert loader.predictor.seen == [(CHEST_SERIES_UID, (96, 96, SLICES))]


def test_analyse_remote_study_retrieves_only_ct_series_when_the_study_holds_other_modalities(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    pacs.hold(series_files["mr"])
    answer = _analyse(server, work_root, FixedPredictor())
    assert pacs.retrieved == [CHEST_SERIES_UID] and answer.retrieved_series_instance_uids == [CHEST_SERIES_UID]


def test_analyse_remote_study_retrieves_only_the_named_series_when_a_series_uid_is_given(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    pacs.hold(series_files["second_chest"])
    answer = _analyse(server, work_root, FixedPredictor(), series_instance_uid=SECOND_CHEST_SERIES_UID)
    assert pacs.retrieved == [SECOND_CHEST_SERIES_UID] and answer.retrieved_instance_count == SLICES
    assert answer.response.series_uid == SECOND_CHEST_SERIES_UID


def test_analyse_remote_study_retrieves_every_ct_series_and_the_pipeline_chooses_when_none_is_named(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    pacs.hold(series_files["second_chest"])
    answer = _analyse(server, work_root, FixedPredictor())
    assert sorted(pacs.retrieved) == [CHEST_SERIES_UID, SECOND_CHEST_SERIES_UID]
    assert answer.retrieved_instance_count == 2 * SLICES
    selection = answer.response.series_selection
    assert selection is not None and len(selection.candidates) == 2
    assert selection.chosen_series_uid == answer.response.series_uid


def test_analyse_remote_study_raises_study_not_found_and_runs_nothing_when_the_server_lacks_the_study(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    loader = CountingLoader()
    with pytest.raises(DicomWebNotFound) as caught:
        analyse_remote_study(RemoteStudyRequest(study_instance_uid="1.2.3.404"), server=server, predictor=loader,
                             options=IngestOptions(work_root=work_root))
    assert caught.value.error_code is DicomWebErrorCode.STUDY_NOT_FOUND and caught.value.exit_code == ExitCode.USAGE
    assert "1.2.3.404" in str(caught.value) and loader.calls == 0 and pacs.retrieved == []


def test_analyse_remote_study_raises_series_not_found_listing_the_studys_series_when_the_named_one_is_absent(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    with pytest.raises(DicomWebNotFound) as caught:
        _analyse(server, work_root, CountingLoader(), series_instance_uid="1.2.826.0.1.77.99")
    assert caught.value.error_code is DicomWebErrorCode.SERIES_NOT_FOUND
    assert "1.2.826.0.1.77.99" in str(caught.value) and CHEST_SERIES_UID in str(caught.value)
    assert pacs.retrieved == []


def test_analyse_remote_study_raises_no_series_of_modality_when_the_study_holds_no_ct(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    pacs.hold(series_files["mr_study"])
    with pytest.raises(DicomWebNoMatchingSeries) as caught:
        analyse_remote_study(RemoteStudyRequest(study_instance_uid=MR_STUDY_UID), server=server,
                             predictor=CountingLoader(), options=IngestOptions(work_root=work_root))
    assert caught.value.error_code is DicomWebErrorCode.NO_SERIES_OF_MODALITY
    assert f"MR {MR_STUDY_UID}.1" in str(caught.value) and pacs.retrieved == []


def test_analyse_remote_study_raises_partial_retrieval_and_runs_nothing_when_instances_are_missing(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    pacs.withheld[CHEST_SERIES_UID] = 1
    loader = CountingLoader()
    with pytest.raises(DicomWebPartialRetrieval) as caught:
        _analyse(server, work_root, loader, store_results=True)
    assert caught.value.error_code is DicomWebErrorCode.PARTIAL_RETRIEVAL and caught.value.exit_code == ExitCode.FAILED
    assert f"returned {SLICES - 1} instance(s) but QIDO-RS reported {SLICES}" in str(caught.value)
    assert loader.calls == 0 and pacs.store_requests == [] and list(work_root.iterdir()) == []


def test_analyse_remote_study_raises_partial_retrieval_when_one_of_two_series_is_incomplete(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    pacs.hold(series_files["second_chest"])
    pacs.withheld[SECOND_CHEST_SERIES_UID] = 5
    loader = CountingLoader()
    with pytest.raises(DicomWebPartialRetrieval, match=f"series {SECOND_CHEST_SERIES_UID} .* returned {SLICES - 5} "):
        _analyse(server, work_root, loader)
    assert loader.calls == 0 and list(work_root.iterdir()) == []


def test_analyse_remote_study_raises_partial_retrieval_when_an_uncounted_series_returns_no_instance(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    pacs.is_count_reported = False
    pacs.withheld[CHEST_SERIES_UID] = SLICES
    with pytest.raises(DicomWebPartialRetrieval, match="returned 0 instance"):
        _analyse(server, work_root, CountingLoader())


def test_analyse_remote_study_raises_partial_retrieval_and_leaves_no_files_when_the_stream_breaks_mid_series(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    pacs.breaks_after[CHEST_SERIES_UID] = SLICES // 2
    loader = CountingLoader()
    with pytest.raises(DicomWebPartialRetrieval, match=f"stream broke after {SLICES // 2} instance"):
        _analyse(server, work_root, loader, store_results=True)
    assert loader.calls == 0 and pacs.store_requests == [] and list(work_root.iterdir()) == []


def test_analyse_remote_study_raises_partial_retrieval_naming_the_instance_when_one_cannot_be_read(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    pacs.garbled_at[CHEST_SERIES_UID] = 3
    loader = CountingLoader()
    with pytest.raises(DicomWebPartialRetrieval, match="instance 4 sent by WADO-RS is not a readable DICOM instance"):
        _analyse(server, work_root, loader, store_results=True)
    assert loader.calls == 0 and pacs.store_requests == [] and list(work_root.iterdir()) == []


def test_analyse_remote_study_raises_the_pipelines_refusal_and_stores_nothing_when_the_study_fails_its_checks(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    pacs.hold(series_files["lungless"])
    loader = CountingLoader()
    with pytest.raises(StudyRefusal) as caught:
        analyse_remote_study(RemoteStudyRequest(study_instance_uid=LUNGLESS_STUDY_UID, store_results=True),
                             server=server, predictor=loader, options=IngestOptions(work_root=work_root))
    assert caught.value.error_code == "lungs_not_found" and caught.value.study_uid == LUNGLESS_STUDY_UID
    assert loader.calls == 0 and pacs.store_requests == [] and list(work_root.iterdir()) == []


def test_analyse_remote_study_stores_an_sr_and_a_lung_seg_as_new_series_of_the_study_when_asked(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    answer = _analyse(server, work_root, FixedPredictor(), store_results=True)
    assert [item.kind for item in answer.stored] == ["SR", "SEG"] and answer.store_notes == []
    [request] = pacs.store_requests
    assert [(str(d.SeriesInstanceUID), str(d.SOPInstanceUID)) for d in request] == [
        (item.series_instance_uid, item.sop_instance_uid) for item in answer.stored]
    sr_series, seg_series = (item.series_instance_uid for item in answer.stored)
    assert len({sr_series, seg_series, CHEST_SERIES_UID}) == 3
    assert all(str(dataset.StudyInstanceUID) == STUDY_UID for dataset in request)
    [report] = pacs.stored_of_modality("SR")
    [evidence] = report.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
    assert evidence.SeriesInstanceUID == CHEST_SERIES_UID
    assert {str(item.ReferencedSOPInstanceUID) for item in evidence.ReferencedSOPSequence} == _ct_sources(
        series_files, "chest")
    [seg] = pacs.stored_of_modality("SEG")
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == CHEST_SERIES_UID
    assert list(work_root.iterdir()) == []


def test_analyse_remote_study_cites_only_the_analysed_series_in_the_sr_when_the_study_has_two(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], work_root: Path,
) -> None:
    pacs.hold(series_files["second_chest"])
    answer = _analyse(server, work_root, FixedPredictor(), store_results=True)
    [report] = pacs.stored_of_modality("SR")
    cited = [item.SeriesInstanceUID for item in
             report.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence]
    assert cited == [answer.response.series_uid]


def test_analyse_remote_study_stores_the_sr_and_notes_why_not_the_seg_when_the_series_has_no_frame_of_reference(
    server: DicomWebServer, pacs: FakeDicomWebClient, series_files: dict[str, list[Path]], tmp_path: Path,
    work_root: Path,
) -> None:
    folder = tmp_path / "no_frame_of_reference"
    folder.mkdir()
    for path in series_files["chest"]:
        dataset = pydicom.dcmread(path)
        del dataset.FrameOfReferenceUID
        dataset.save_as(folder / path.name, enforce_file_format=True)
    pacs.files.clear()
    pacs.hold(sorted(folder.iterdir()))
    answer = _analyse(server, work_root, FixedPredictor(), store_results=True)
    assert [item.kind for item in answer.stored] == ["SR"] and pacs.stored_of_modality("SEG") == []
    [note] = answer.store_notes
    assert note.startswith("lung SEG not stored: ") and "FrameOfReferenceUID" in note


def test_analyse_remote_study_raises_store_failed_when_the_server_refuses_the_report(
    server: DicomWebServer, pacs: FakeDicomWebClient, work_root: Path,
) -> None:
    pacs.is_store_refused = True
    with pytest.raises(DicomWebStoreFailed) as caught:
        _analyse(server, work_root, FixedPredictor(), store_results=True)
    assert caught.value.error_code is DicomWebErrorCode.STORE_FAILED and caught.value.exit_code == ExitCode.FAILED
    assert f"reason {PROCESSING_FAILURE}" in str(caught.value) and list(work_root.iterdir()) == []
