"""``POST /predict_study`` against a real Orthanc: the real chest crop as a DICOM series, triaged by UID.

The predictor is the built-in pack's qct member alone (no learned weights; Astra stays out to keep
CI time modest). The stored SR is read back from Orthanc and checked with highdicom.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from medskills.dicom.web import DicomWebServer, find_series, retrieved_study
from medskills.triage.api import ServiceSettings, create_app
from medskills.triage.measurements import MeasurementName
from medskills.triage.structured_report import measurement_code

from dicomweb_support.fixtures import orthanc  # noqa: F401  (pytest fixtures, used by name)
from dicomweb_support.orthanc import OrthancServer
from dicomweb_support.studies import read_series_for_pacs, settings_for, store_folder
from triage_service_support.studies import CHEST_CROP_STUDY_UID, chest_crop_series

pytestmark = [pytest.mark.network_local, pytest.mark.slow]

CHEST_SERIES_UID = f"{CHEST_CROP_STUDY_UID}.1"


@pytest.fixture(scope="module")
def qct_predictor() -> object:
    from medskills.triage import default_pack
    from medskills.triage.ensemble import build_predictor
    from medskills.triage.pack import verify_pack

    manifest = default_pack.default_manifest(with_astra=False)
    return build_predictor(verify_pack(Path(default_pack.__file__).parent, manifest))


@pytest.fixture(scope="module")
def chest_on_server(orthanc: OrthancServer, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real chest crop, written as an axial CT series and stored with STOW-RS; returns its study UID."""
    folder = chest_crop_series(tmp_path_factory.mktemp("chest"), shared_data)
    study_uid, series_uid, _ = store_folder(orthanc, folder)
    assert (study_uid, series_uid) == (CHEST_CROP_STUDY_UID, CHEST_SERIES_UID)
    return study_uid


def _client(orthanc: OrthancServer, predictor: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            **overrides: object) -> TestClient:
    """The app as `medskills triage serve` builds it, with MEDSKILLS_DICOMWEB_* pointing at ``orthanc``."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    for name, value in settings_for(orthanc, **overrides).model_dump().items():
        if value is not None:
            raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            monkeypatch.setenv(f"MEDSKILLS_DICOMWEB_{name.upper()}", str(raw))
    return TestClient(create_app(ServiceSettings(work_dir=work), predictor=predictor))  # type: ignore[arg-type]


@pytest.fixture()
def client(orthanc: OrthancServer, qct_predictor: object, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with _client(orthanc, qct_predictor, tmp_path, monkeypatch) as test_client:
        yield test_client


def test_predict_study_stores_an_sr_whose_values_equal_the_answer(
        client: TestClient, orthanc: OrthancServer, chest_on_server: str, tmp_path: Path) -> None:
    import highdicom as hd

    answer = client.post("/predict_study", json={"study_instance_uid": chest_on_server, "store_results": True})
    body = answer.json()
    assert answer.status_code == 200, (body["error_code"], body["error"])
    assert body["study_uid"] == chest_on_server and body["series_uid"] == CHEST_SERIES_UID
    assert body["retrieved_series_instance_uids"] == [CHEST_SERIES_UID] and body["retrieved_instance_count"] == 164
    assert body["members_available"] == ["qct"] and body["measurements"]
    stored, stored_seg = body["stored"]
    assert (stored["kind"], stored_seg["kind"]) == ("SR", "SEG") and body["store_notes"] == []
    assert list((tmp_path / "work").iterdir()) == []  # the retrieved instances are gone

    server = DicomWebServer(settings_for(orthanc))
    _check_lung_seg(server, chest_on_server, stored_seg["series_instance_uid"], body)
    [sr_series] = find_series(server, study_uid=chest_on_server, modality="SR")
    assert sr_series.series_instance_uid == stored["series_instance_uid"] != CHEST_SERIES_UID
    with retrieved_study(server, study_uid=chest_on_server, series_uid=sr_series.series_instance_uid) as retrieved:
        report = hd.sr.srread(next(retrieved.series[0].folder.glob("*.dcm")))
    assert report.SOPInstanceUID == stored["sop_instance_uid"] and report.StudyInstanceUID == chest_on_server
    evidence = report.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
    assert [item.SeriesInstanceUID for item in evidence] == [CHEST_SERIES_UID]
    assert len(evidence[0].ReferencedSOPSequence) == 164
    [group] = hd.sr.MeasurementReport.from_sequence([report]).get_image_measurement_groups()
    reported = {(m.name.value, m.finding_sites[0].value.value if m.finding_sites else None): (m.value, m.unit.value)
                for m in group.get_measurements()}
    expected = [m for m in body["measurements"] if m["value"] is not None]
    assert len(reported) == len(expected)
    for measurement in expected:
        code = measurement_code(MeasurementName(measurement["name"]))
        site = {"both": "39607008", "left": "44029006", "right": "3341006", "body": "38266002"}[measurement["side"]]
        value, unit = reported[(code.value, site)]
        assert value == pytest.approx(measurement["value"], rel=1e-6)
        assert unit == {"mL": "ml", "HU": "[hnsf'U]", "%": "%"}[measurement["unit"]]
    findings = {e.name.meaning: e.value.meaning for e in group.get_qualitative_evaluations()}
    assert {name for name, value in findings.items() if value == "Present"} == set(body["top_pathologies"])
    text = [item.TextValue for item in report.ContentSequence if item.ValueType == "TEXT"]
    assert text == [body["disclaimer"]]
    assert {"Algorithm Name": "medskills chest-CT triage", "Algorithm Version": body["model_version"]}.items() <= \
        dict(_text_items(report)).items()


def _check_lung_seg(server: DicomWebServer, study_uid: str, seg_series_uid: str, body: dict) -> None:
    """The lung SEG on the server: one SNOMED CT lung segment whose frames sit on the analysed instances."""
    import highdicom as hd
    import numpy as np

    with retrieved_study(server, study_uid=study_uid, modality="CT") as source_study:
        sources = [hd.imread(p) for p in sorted(source_study.series[0].folder.glob("*.dcm"))]
    with retrieved_study(server, study_uid=study_uid, series_uid=seg_series_uid) as retrieved:
        seg = hd.seg.segread(next(retrieved.series[0].folder.glob("*.dcm")))
    assert seg.StudyInstanceUID == study_uid and seg.ReferencedSeriesSequence[0].SeriesInstanceUID == CHEST_SERIES_UID
    [segment] = seg.SegmentSequence
    assert segment.SegmentedPropertyTypeCodeSequence[0].CodeValue == "39607008"  # SCT lung
    uids = [str(source.SOPInstanceUID) for source in sources]
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, combine_segments=True)
    spacing = [float(v) for v in sources[0].PixelSpacing] + [float(sources[0].SliceThickness)]
    volume_ml = int(np.count_nonzero(frames)) * float(np.prod(spacing)) / 1000.0
    lung = next(m for m in body["measurements"] if m["name"] == "lung_volume" and m["side"] == "both")
    assert volume_ml == pytest.approx(lung["value"], rel=1e-6)


def _text_items(dataset: object) -> list[tuple[str, str]]:
    """Every TEXT content item of the SR tree as (concept meaning, value)."""
    found = []
    for item in getattr(dataset, "ContentSequence", []):
        if item.ValueType == "TEXT":
            found.append((item.ConceptNameCodeSequence[0].CodeMeaning, item.TextValue))
        found.extend(_text_items(item))
    return found


def test_predict_study_without_store_leaves_the_server_unchanged(client: TestClient, orthanc: OrthancServer,
                                                                 chest_on_server: str) -> None:
    before = sorted(orthanc.rest("GET", "/instances").json())
    answer = client.post("/predict_study", json={"study_instance_uid": chest_on_server,
                                                 "series_instance_uid": CHEST_SERIES_UID})
    assert answer.status_code == 200 and answer.json()["stored"] == []
    assert sorted(orthanc.rest("GET", "/instances").json()) == before


def test_unknown_study_is_404_with_its_code(client: TestClient) -> None:
    answer = client.post("/predict_study", json={"study_instance_uid": "1.2.3.4.5.6"})
    assert answer.status_code == 404 and answer.json()["error_code"] == "dicomweb_study_not_found"
    assert answer.json()["processing_status"] == "Failure"


def test_study_without_ct_is_422_and_names_what_it_holds(client: TestClient, orthanc: OrthancServer,
                                                         shared_data: Path) -> None:
    from pydicom.uid import generate_uid

    datasets = read_series_for_pacs(shared_data / "ct_dicom_series")[:3]
    study_uid, series_uid = generate_uid(), generate_uid()
    for dataset in datasets:
        dataset.Modality, dataset.StudyInstanceUID, dataset.SeriesInstanceUID = "MR", study_uid, series_uid
        dataset.SOPInstanceUID = generate_uid()
    DicomWebServer(settings_for(orthanc)).store(datasets)
    answer = client.post("/predict_study", json={"study_instance_uid": study_uid})
    assert answer.status_code == 422 and answer.json()["error_code"] == "dicomweb_no_series_of_modality"
    assert f"MR {series_uid}" in answer.json()["error"]


@pytest.mark.parametrize("uid", ["../etc/passwd", "1.2.", "1..2", "1" * 65])
def test_bad_uid_is_a_400(client: TestClient, uid: str) -> None:
    answer = client.post("/predict_study", json={"study_instance_uid": uid})
    assert answer.status_code == 400 and answer.json()["error_code"] == "bad_request"


def test_wrong_password_is_502_without_the_password(orthanc: OrthancServer, qct_predictor: object,
                                                     chest_on_server: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with _client(orthanc, qct_predictor, tmp_path, monkeypatch, password="wrong-secret") as client:
        answer = client.post("/predict_study", json={"study_instance_uid": chest_on_server})
    assert answer.status_code == 502 and answer.json()["error_code"] == "dicomweb_authentication_failed"
    assert "wrong-secret" not in answer.text


def test_unreachable_server_is_502(orthanc: OrthancServer, qct_predictor: object, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dicomweb_support.orthanc import free_loopback_port

    url = f"http://127.0.0.1:{free_loopback_port()}/dicom-web"
    with _client(orthanc, qct_predictor, tmp_path, monkeypatch, url=url, max_attempts=1) as client:
        answer = client.post("/predict_study", json={"study_instance_uid": "1.2.3"})
    assert answer.status_code == 502 and answer.json()["error_code"] == "dicomweb_server_unreachable"


def test_without_a_configured_server_the_route_is_not_offered(qct_predictor: object, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDSKILLS_DICOMWEB_URL", raising=False)
    app = create_app(ServiceSettings(work_dir=tmp_path), predictor=qct_predictor)  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert "/predict_study" not in client.get("/openapi.json").json()["paths"]
        assert client.post("/predict_study", json={"study_instance_uid": "1.2.3"}).status_code == 404


def test_server_that_never_answers_is_504(orthanc: OrthancServer, qct_predictor: object, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from dicomweb_support.studies import silent_server

    with silent_server() as url, _client(orthanc, qct_predictor, tmp_path, monkeypatch, url=url,
                                         timeout_seconds=0.3, max_attempts=2, backoff_seconds=0.0) as client:
        answer = client.post("/predict_study", json={"study_instance_uid": "1.2.3"})
    assert answer.status_code == 504 and answer.json()["error_code"] == "dicomweb_server_timeout"
