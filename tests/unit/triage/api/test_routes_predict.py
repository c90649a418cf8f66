"""The predict routes in-process: bodies, status codes, auth, limits, no PHI in logs, no temp files."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from fastapi.testclient import TestClient

from dicom_support.builders import chest_phantom, zip_entries, zip_folder, zip_with_symlink
from medskills.triage.prediction import NoModelsAvailable
from triage_service_support.app_client import service_client
from triage_service_support.predictors import FixedPredictor, GatedPredictor
from triage_service_support.studies import chest_zip


@pytest.fixture(scope="module")
def chest_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chest_zip(tmp_path_factory.mktemp("chest"))


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _post(client: TestClient, path: Path, name: str | None = None, endpoint: str = "/predict", **kwargs: object):
    with open(path, "rb") as handle:
        return client.post(endpoint, files={"file": (name or path.name, handle, "application/octet-stream")}, **kwargs)


def test_a_study_no_member_could_analyse_is_refused_with_no_models_available(work_dir: Path,
                                                                              chest_archive: Path) -> None:
    refusal = NoModelsAvailable("no model could analyse this study (astra: failed: out of memory)",
                                study_uid="1.2.826.0.1.77", series_uid="1.2.826.0.1.77.1")
    with service_client(work_dir, FixedPredictor(error=refusal)) as client:
        response = _post(client, chest_archive)
    body = response.json()
    assert response.status_code == 503 and body["error_code"] == "no_models_available"
    assert body["probability_of_pathology"] is None and body["pathology"] is None
    assert body["processing_status"] == "Failure" and "astra: failed: out of memory" in body["error"]
    assert body["study_uid"] == "1.2.826.0.1.77" and "Retry-After" not in response.headers
    assert body["series_selection"]["chosen_series_uid"] == "1.2.826.0.1.77.1"


def test_a_chest_study_succeeds_with_the_documented_body(work_dir: Path, chest_archive: Path) -> None:
    predictor = FixedPredictor()
    with service_client(work_dir, predictor) as client:
        response = _post(client, chest_archive)
    body = response.json()
    assert response.status_code == 200, body
    assert body["processing_status"] == "Success" and body["error"] is None and body["error_code"] is None
    assert body["probability_of_pathology"] == 0.87 and body["pathology"] == 1
    assert body["top_pathologies"] == ["Pneumonia", "Consolidation"]
    assert body["probability_of_pathology_thoracic"] == 0.92 and body["pathology_thoracic"] == 1
    assert body["series_uid"] == "1.2.826.0.1.77.1" and body["study_uid"] == "1.2.826.0.1.77"
    assert body["series_selection"]["chosen_series_uid"] == body["series_uid"]
    assert body["model_version"] == "test-pack-1" and body["time_of_processing"] > 0
    assert body["members_available"] == ["astra_head", "tiny_mednext"]
    assert body["members_unavailable"] == [{"name": "fvlm", "reason": "not implemented"}]
    assert body["feature_list_sha256"] == "0" * 64 and body["stacker_provenance"] == "synthetic"
    assert predictor.seen == [("1.2.826.0.1.77.1", (96, 96, 80))]
    assert predictor.threads and not any("MainThread" in t for t in predictor.threads)
    assert list(work_dir.iterdir()) == []


def test_a_usable_study_without_a_predictor_is_503_with_retry_after(work_dir: Path, chest_archive: Path) -> None:
    with service_client(work_dir) as client:
        response = _post(client, chest_archive)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.json()["error_code"] == "predictor_not_configured"


def test_a_usable_study_on_a_service_whose_pack_failed_to_load_is_told_why(work_dir: Path, chest_archive: Path,
                                                                          tmp_path: Path) -> None:
    broken = tmp_path / "pack"
    broken.mkdir()
    (broken / "pack.json").write_text("{not json")
    with service_client(work_dir, pack_dir=broken) as client:
        reason = client.get("/ready").json()["reason"]
        response = _post(client, chest_archive)
    assert response.status_code == 503 and response.json()["error_code"] == "predictor_not_configured"
    assert reason and reason in response.json()["error"]


def test_the_real_abdominal_series_is_422_before_any_predictor(work_dir: Path, shared_data: Path,
                                                                tmp_path: Path) -> None:
    archive = zip_folder(shared_data / "ct_dicom_series", tmp_path / "study.zip")
    for predictor in (None, FixedPredictor()):
        with service_client(work_dir, predictor) as client:
            response = _post(client, archive)
        body = response.json()
        assert response.status_code == 422 and body["error_code"] == "lungs_not_found"
        assert body["processing_status"] == "Failure" and body["probability_of_pathology"] is None
        assert list(work_dir.iterdir()) == []


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_upload_gives_the_same_body(work_dir: Path, tmp_path: Path, suffix: str) -> None:
    phantom = chest_phantom()
    path = tmp_path / f"chest{suffix}"
    nib.save(nib.Nifti1Image(phantom.array.astype(np.int16), phantom.affine), path)
    with service_client(work_dir, FixedPredictor(probability=0.2)) as client:
        response = _post(client, path, endpoint="/predict_nifti")
    body = response.json()
    assert response.status_code == 200, body
    assert body["study_uid"] == "nifti_chest" and body["series_uid"] == "nifti_chest_series"
    assert body["pathology"] == 0 and body["top_pathologies"] == [] and body["series_selection"] is None
    assert list(work_dir.iterdir()) == []


def test_nifti_of_the_abdomen_is_too_short(work_dir: Path, shared_data: Path) -> None:
    with service_client(work_dir, FixedPredictor()) as client:
        response = _post(client, shared_data / "ct_abdomen_3mm" / "image.nii.gz", endpoint="/predict_nifti")
    assert response.status_code == 422 and response.json()["error_code"] == "lungs_too_short"


@pytest.mark.parametrize(("endpoint", "name"), [("/predict", "study.tar"), ("/predict_nifti", "scan.mha"),
                                                ("/predict_nifti", ".nii")])
def test_wrong_file_types_are_415(work_dir: Path, tmp_path: Path, endpoint: str, name: str) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"data")
    with service_client(work_dir) as client:
        response = _post(client, path, name=name, endpoint=endpoint)
    assert response.status_code == 415 and response.json()["error_code"] == "unsupported_file_type"


def test_a_missing_file_field_is_400(work_dir: Path) -> None:
    with service_client(work_dir) as client:
        response = client.post("/predict", data={"other": "x"})
    assert response.status_code == 400 and response.json()["error_code"] == "bad_request"


@pytest.mark.parametrize(("build", "status", "code"), [
    (lambda p: zip_entries(p, [("a.dcm", b"\0" * 5_000_000)]), 413, "zip_bomb"),
    (lambda p: zip_entries(p, [("../x.dcm", b"x")]), 400, "zip_path_traversal"),
    (lambda p: zip_with_symlink(p), 400, "zip_symlink"),
    (lambda p: zip_entries(p, [("notes.txt", b"hello")]), 422, "no_dicom_series"),
])
def test_malicious_archives_get_their_status_and_leave_nothing(work_dir: Path, tmp_path: Path, build, status: int,
                                                               code: str) -> None:
    archive = build(tmp_path / "bad.zip")
    with service_client(work_dir, FixedPredictor()) as client:
        response = _post(client, archive)
    assert (response.status_code, response.json()["error_code"]) == (status, code)
    assert list(work_dir.iterdir()) == []


def test_an_upload_over_the_cap_is_413_by_header_and_by_stream(work_dir: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.zip"
    big.write_bytes(b"x" * 200_000)
    with service_client(work_dir, max_upload_bytes=100_000) as client:
        response = _post(client, big)
        assert response.status_code == 413 and response.json()["error_code"] == "upload_too_large"

        def chunks():
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n\r\n"
            for _ in range(30):
                yield b"x" * 10_000

        streamed = client.post("/predict", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert streamed.status_code == 413 and streamed.json()["error_code"] == "upload_too_large"
    assert list(work_dir.iterdir()) == []


def test_the_api_key_is_required_when_configured(work_dir: Path, chest_archive: Path) -> None:
    with service_client(work_dir, FixedPredictor(), api_key="s3cret") as client:
        assert _post(client, chest_archive).status_code == 401
        assert _post(client, chest_archive, headers={"X-API-Key": "wrong"}).json()["error_code"] == "unauthorized"
        assert _post(client, chest_archive, headers={"X-API-Key": "s3cret"}).status_code == 200
        assert client.get("/health").status_code == 200


def test_several_studies_need_study_uid_and_bad_uids_are_400(work_dir: Path, tmp_path: Path) -> None:
    from dicom_support.builders import write_series

    folder = tmp_path / "two"
    folder.mkdir()
    write_series(folder, study_uid="9.1", series_uid="9.1.1", prefix="a")
    write_series(folder, study_uid="9.2", series_uid="9.2.1", prefix="b")
    archive = zip_folder(folder, tmp_path / "two.zip")
    with service_client(work_dir, FixedPredictor()) as client:
        assert _post(client, archive).json()["error_code"] == "multiple_studies"
        chosen = _post(client, archive, params={"study_uid": "9.2"}).json()
        assert chosen["error_code"] == "lungs_not_found"
        for bad_uid in ("../x", "9.2.", "9..2"):
            answer = client.post("/predict", params={"study_uid": bad_uid}, files={"file": ("a.zip", b"x")})
            assert answer.status_code == 400, bad_uid


def test_a_refused_series_lists_the_candidates(work_dir: Path, tmp_path: Path) -> None:
    from dicom_support.builders import write_series

    folder = tmp_path / "short"
    folder.mkdir()
    write_series(folder, slices=8)
    with service_client(work_dir, FixedPredictor()) as client:
        body = _post(client, zip_folder(folder, tmp_path / "s.zip")).json()
    assert body["error_code"] == "not_enough_slices"
    assert body["series_selection"]["candidates"][0]["rejection_code"] == "not_enough_slices"


def test_a_predictor_bug_is_a_500_without_details(work_dir: Path, chest_archive: Path) -> None:
    with service_client(work_dir, FixedPredictor(error=RuntimeError("boom at /secret/path"))) as client:
        response = _post(client, chest_archive)
    assert response.status_code == 500 and response.json()["error_code"] == "internal_error"
    assert "/secret/path" not in response.text and list(work_dir.iterdir()) == []


def test_logs_carry_no_phi_and_no_raw_uids(work_dir: Path, chest_archive: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with service_client(work_dir, FixedPredictor()) as client:
        assert _post(client, chest_archive).status_code == 200
    text = caplog.text
    assert "study" in text and "Doe^Jane" not in text and "PHI-98765" not in text
    assert "1.2.826.0.1.77" not in text


def test_archiving_is_off_by_default_and_names_copies_without_uids(work_dir: Path, chest_archive: Path,
                                                                  tmp_path: Path) -> None:
    archive_dir = tmp_path / "archive"
    with service_client(work_dir, FixedPredictor()) as client:
        _post(client, chest_archive)
    assert not archive_dir.exists()
    with service_client(work_dir, FixedPredictor(), archive_dir=archive_dir) as client:
        _post(client, chest_archive)
    copies = list(archive_dir.iterdir())
    assert len(copies) == 1 and "1.2.826" not in copies[0].name and copies[0].suffix == ".zip"


def test_an_archive_copy_that_fails_is_logged_and_the_answer_still_sent(work_dir: Path, chest_archive: Path,
                                                                         tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    not_a_folder = tmp_path / "archive"
    not_a_folder.write_text("a file where the archive folder should be")
    with caplog.at_level(logging.ERROR), service_client(work_dir, FixedPredictor(), archive_dir=not_a_folder) as client:
        response = _post(client, chest_archive)
    assert response.status_code == 200 and response.json()["probability_of_pathology"] == 0.87
    assert "archive copy of study" in caplog.text and "1.2.826" not in caplog.text
    assert list(work_dir.iterdir()) == []


def test_malformed_multipart_gets_the_same_failure_body(work_dir: Path) -> None:
    with service_client(work_dir) as client:
        response = client.post("/predict", content=b"--b\r\nbroken\r\r\n",
                               headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert client.get("/absent").status_code == 404
    assert response.status_code == 400 and response.json()["error_code"] == "bad_request"


def test_a_nifti_not_in_hu_is_422(work_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "scaled.nii.gz"
    nib.save(nib.Nifti1Image(np.full((32, 32, 32), 300, dtype=np.int16), np.eye(4)), path)
    with service_client(work_dir, FixedPredictor()) as client:
        response = _post(client, path, endpoint="/predict_nifti")
    assert response.status_code == 422 and response.json()["error_code"] == "hu_implausible"


def test_a_nifti_compression_bomb_is_413_and_leaves_nothing_behind(work_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "bomb.nii.gz"  # 32 MB of zeros in about 40 KB
    nib.save(nib.Nifti1Image(np.zeros((256, 256, 256), dtype=np.int16), np.eye(4)), path)
    with service_client(work_dir, FixedPredictor()) as client:
        response = _post(client, path, endpoint="/predict_nifti")
    assert response.status_code == 413 and response.json()["error_code"] == "nifti_too_large"
    assert list(work_dir.iterdir()) == []


def test_a_queued_request_cancelled_before_it_runs_leaves_no_upload_behind(work_dir: Path,
                                                                          chest_archive: Path) -> None:
    """A request cancelled while queued (its client went away, or the server shuts down) never runs its job:
    its upload folder must still be removed."""
    import httpx

    from medskills.triage.api import ServiceSettings, create_app

    predictor = GatedPredictor()
    app = create_app(ServiceSettings(work_dir=work_dir, builtin_pack=False), predictor=predictor)
    body = chest_archive.read_bytes()

    async def scenario() -> int:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            running = asyncio.create_task(client.post("/predict", files={"file": ("a.zip", body)}, timeout=120))
            while not predictor.started.is_set():
                await asyncio.sleep(0.01)
            queued = asyncio.create_task(client.post("/predict", files={"file": ("b.zip", body)}, timeout=120))
            while len(list(work_dir.iterdir())) < 2 or app.state.runtime.queue.in_use < 2:
                await asyncio.sleep(0.01)
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            predictor.release.set()
            return (await running).status_code

    assert asyncio.run(scenario()) == 200
    assert list(work_dir.iterdir()) == []
    assert len(predictor.seen) == 1
