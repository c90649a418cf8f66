"""A real uvicorn process on 127.0.0.1: liveness during inference, a full queue, flat memory, the CLI."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import httpx
import nibabel as nib
import numpy as np
import pytest

from dicom_support.builders import chest_phantom, zip_folder
from triage_service_support.server import app_argv, free_port, rss_kib, running_server
from triage_service_support.studies import CHEST_CROP_STUDY_UID, chest_crop_zip, chest_zip

pytestmark = [pytest.mark.network_local, pytest.mark.slow]


@pytest.fixture(scope="module")
def chest_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chest_zip(tmp_path_factory.mktemp("chest"))


def _post(url: str, path: Path, endpoint: str = "/predict", timeout: float = 60.0) -> httpx.Response:
    with open(path, "rb") as handle:
        return httpx.post(f"{url}{endpoint}", files={"file": (path.name, handle)}, timeout=timeout)


def test_health_answers_fast_during_a_prediction_and_a_full_queue_gives_503(tmp_path: Path,
                                                                            chest_archive: Path) -> None:
    port = free_port()
    with running_server(app_argv(port, queue_size=1, delay_seconds=3.0, work_dir=tmp_path), port) as (url, _):
        slow: dict[str, httpx.Response] = {}
        worker = threading.Thread(target=lambda: slow.setdefault("r", _post(url, chest_archive)))
        worker.start()
        latencies = []
        with httpx.Client(base_url=url, timeout=5) as probe:
            deadline = time.monotonic() + 20
            while probe.get("/ready").json()["queue_in_use"] < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.8)  # past the decode: the worker is now inside the 3 s predictor call
            for _ in range(5):
                started = time.perf_counter()
                assert probe.get("/health").status_code == 200
                latencies.append(time.perf_counter() - started)
        busy = _post(url, chest_archive)
        worker.join(timeout=30)
        assert max(latencies) < 0.1, latencies
        assert busy.status_code == 503 and busy.json()["error_code"] == "queue_full"
        assert busy.headers["Retry-After"] == "1"
        assert slow["r"].status_code == 200 and slow["r"].json()["pathology"] == 1
    assert list(tmp_path.iterdir()) == []


def test_200_sequential_requests_keep_rss_flat(tmp_path: Path) -> None:
    phantom = chest_phantom(slices=56, lung_slices=(3, 53))
    nifti = tmp_path / "chest.nii.gz"
    nib.save(nib.Nifti1Image(phantom.array.astype(np.int16), phantom.affine), nifti)
    work = tmp_path / "work"
    work.mkdir()
    port = free_port()
    with running_server(app_argv(port, queue_size=2, delay_seconds=0.0, work_dir=work), port) as (url, process):
        with httpx.Client(base_url=url, timeout=30) as client:
            def send() -> int:
                with open(nifti, "rb") as handle:
                    return client.post("/predict_nifti", files={"file": ("chest.nii.gz", handle)}).status_code

            assert [send() for _ in range(20)] == [200] * 20
            warm = rss_kib(process.pid)
            statuses = [send() for _ in range(200)]
            after = rss_kib(process.pid)
    assert statuses == [200] * 200
    assert after <= warm * 1.10, (warm, after)
    assert list(work.iterdir()) == []


def test_cli_serve_answers_the_documented_422_for_the_real_series(tmp_path: Path, shared_data: Path,
                                                                  chest_archive: Path) -> None:
    study = zip_folder(shared_data / "ct_dicom_series", tmp_path / "study.zip")
    port = free_port()
    argv = [sys.executable, "-c", "from medskills.cli import main; main()", "triage", "serve", "--port", str(port)]
    env = {"MEDSKILLS_WORK_DIR": str(tmp_path / "work"), "MEDSKILLS_PACK_DIR": "", "MEDSKILLS_BUILTIN_PACK": "false"}
    (tmp_path / "work").mkdir()
    with running_server(argv, port, env=env) as (url, _):
        assert httpx.get(f"{url}/ready").status_code == 503
        refused = _post(url, study)
        unconfigured = _post(url, chest_archive)
    assert refused.status_code == 422 and refused.json()["error_code"] == "lungs_not_found"
    assert refused.json()["series_selection"]["candidates"][0]["slice_count"] == 20
    assert refused.json()["series_uid"] == refused.json()["series_selection"]["chosen_series_uid"] != ""
    assert unconfigured.status_code == 503 and unconfigured.json()["error_code"] == "predictor_not_configured"
    assert list((tmp_path / "work").iterdir()) == []


def _serve_argv(port: int) -> list[str]:
    return [sys.executable, "-c", "from medskills.cli import main; main()", "triage", "serve", "--port", str(port)]


def test_serve_without_a_pack_answers_the_real_chest_zip_with_measurements(tmp_path: Path,
                                                                            shared_data: Path) -> None:
    """``curl -F file=@chest.zip localhost:8000/predict`` with no pack configured: the built-in pack answers."""
    chest = chest_crop_zip(tmp_path, shared_data)
    port = free_port()
    env = {"MEDSKILLS_WORK_DIR": str(tmp_path / "work"), "MEDSKILLS_PACK_DIR": ""}
    (tmp_path / "work").mkdir()
    with running_server(_serve_argv(port), port, env=env, startup_seconds=120) as (url, _):
        ready = httpx.get(f"{url}/ready").json()
        response = _post(url, chest, timeout=600)
    body = response.json()
    assert response.status_code == 200, body
    assert ready["ready"] and ready["members_available"][0] == "qct"
    assert body["study_uid"] == CHEST_CROP_STUDY_UID and body["processing_status"] == "Success"
    assert body["probability_of_pathology"] is None and body["pathology"] is None
    assert body["stacker_provenance"] == "none" and body["members_available"][0] == "qct"
    assert body["model_version"].startswith("builtin-default-1")
    lung = [m for m in body["measurements"] if m["name"] == "lung_volume" and m["side"] == "both"]
    assert lung and lung[0]["unit"] == "mL" and lung[0]["value"] > 500
    assert "Medical material" in body["top_pathologies"]
    assert list((tmp_path / "work").iterdir()) == []


def test_serve_with_a_real_pack_answers_through_its_members_and_stacker(tmp_path: Path,
                                                                        chest_archive: Path) -> None:
    from medskills.triage.models.astra import astra_feature_names
    from medskills.triage.pack_manifest import AstraMemberSpec
    from triage_models_support.builders import tiny_astra_member, trained_pack

    (tmp_path / "base").mkdir()
    entry = tiny_astra_member(tmp_path / "base")
    pack = trained_pack(tmp_path, [entry], list(astra_feature_names(AstraMemberSpec.model_validate(entry))))
    port = free_port()
    env = {"MEDSKILLS_WORK_DIR": str(tmp_path / "work"), "MEDSKILLS_PACK_DIR": str(pack)}
    (tmp_path / "work").mkdir()
    with running_server(_serve_argv(port), port, env=env, startup_seconds=120) as (url, _):
        ready = httpx.get(f"{url}/ready")
        response = _post(url, chest_archive, timeout=300)
    body = response.json()
    assert ready.status_code == 200 and ready.json()["members_available"] == ["astra"]
    assert response.status_code == 200, body
    assert 0.0 <= body["probability_of_pathology"] <= 1.0 and body["pathology"] in (0, 1)
    assert body["stacker_provenance"] == "synthetic" and body["fitted_on"]["study_count"] == 60
    assert body["members_available"] == ["astra"] and body["feature_list_sha256"] is not None
    assert body["model_version"].startswith("stacker-")


def test_serve_refuses_to_become_ready_with_a_pack_none_of_whose_members_can_run(tmp_path: Path) -> None:
    from triage_models_support.builders import write_pack

    pack = write_pack(tmp_path / "pack", {"model_version": "nothing-here", "members": [{"kind": "fvlm"}]})
    port = free_port()
    env = {"MEDSKILLS_WORK_DIR": str(tmp_path), "MEDSKILLS_PACK_DIR": str(pack)}
    with running_server(_serve_argv(port), port, env=env, startup_seconds=120) as (url, _):
        ready = httpx.get(f"{url}/ready")
    assert ready.status_code == 503
    assert "no member that can run" in ready.json()["reason"] and "- fvlm: fVLM" in ready.json()["reason"]


def test_batch_command_against_the_real_server_then_resume(tmp_path: Path, chest_archive: Path,
                                                           shared_data: Path) -> None:
    import json

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from medskills.cli import app

    studies = tmp_path / "studies"
    studies.mkdir()
    (studies / "chest.zip").write_bytes(chest_archive.read_bytes())
    (studies / "abdomen.nii.gz").write_bytes((shared_data / "ct_abdomen_3mm" / "image.nii.gz").read_bytes())
    work = tmp_path / "work"
    work.mkdir()
    output = tmp_path / "results.xlsx"
    port = free_port()
    runner = CliRunner()
    with running_server(app_argv(port, queue_size=4, delay_seconds=0.0, work_dir=work), port) as (url, _):
        argv = ["triage", "batch", "--input-dir", str(studies), "--output", str(output), "--api-url", url,
                "--concurrency", "2"]
        first = runner.invoke(app, argv)
        second = runner.invoke(app, [*argv, "--resume"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["succeeded"], summary["refused"], summary["error_codes"]) == (1, 1, {"lungs_too_short": 1})
    assert json.loads(second.stdout)["skipped_by_resume"] == 2
    rows = list(load_workbook(output).active.iter_rows(values_only=True))
    by_name = {Path(r[0]).name: r for r in rows[1:]}
    assert len(rows) == 3 and by_name["chest.zip"][4] == 1 and by_name["abdomen.nii.gz"][11] == "lungs_too_short"
