"""The app factory: every router mounted, the OpenAPI description says what an answer means, and the
DICOMweb route exists only when a server is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage_service_support.app_client import service_client


def test_root_health_and_docs_answer(tmp_path: Path) -> None:
    with service_client(tmp_path) as client:
        assert client.get("/").json()["status"] == "running"
        assert client.get("/health").json() == {"status": "healthy"}
        openapi = client.get("/openapi.json").json()
        assert "/predict" in openapi["paths"]
        description = openapi["info"]["description"]
        assert "built-in pack" in description and '`stacker_provenance` is `"none"`' in description
        assert "no_models_available" in description
        assert client.get("/docs").status_code == 200


def test_the_study_route_is_mounted_only_with_a_dicomweb_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with service_client(tmp_path) as client:
        assert "/predict_study" not in client.get("/openapi.json").json()["paths"]
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_URL", "http://pacs:8042/dicom-web")
    with service_client(tmp_path) as client:
        assert "/predict_study" in client.get("/openapi.json").json()["paths"]


def test_the_upload_cap_of_the_settings_is_enforced(tmp_path: Path) -> None:
    with service_client(tmp_path, max_upload_bytes=64) as client:
        response = client.post("/predict", files={"file": ("study.zip", b"x" * 1000, "application/zip")})
    assert response.status_code == 413 and response.json()["error_code"] == "upload_too_large"
