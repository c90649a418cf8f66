"""The deployment files parse and keep their promises (docker itself does not run in CI)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from medskills.triage.api import ServiceSettings

REPO = Path(__file__).resolve().parents[3]
SERVICE_DIR = REPO / "services" / "triage"


def _compose() -> dict:
    return yaml.safe_load((SERVICE_DIR / "docker-compose.yml").read_text())


def test_compose_has_a_cpu_service_and_a_gpu_profile() -> None:
    services = _compose()["services"]
    assert "profiles" not in services["triage"]
    gpu = services["triage-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"


def test_compose_checks_health_mounts_models_read_only_and_never_the_host_tmp() -> None:
    from medskills.dicom.web import DicomWebSettings

    known = {f"MEDSKILLS_{f.upper()}" for f in ServiceSettings.model_fields}
    known |= {f"MEDSKILLS_DICOMWEB_{f.upper()}" for f in DicomWebSettings.model_fields}
    triage_services = {k: v for k, v in _compose()["services"].items() if k.startswith("triage")}
    assert set(triage_services) == {"triage", "triage-gpu"}
    for name, service in triage_services.items():
        assert "/health" in " ".join(service["healthcheck"]["test"]), name
        volumes = service["volumes"]
        assert any(v.endswith(":/models:ro") for v in volumes), name
        assert not any(re.match(r"^/tmp(:|$)", v) for v in volumes), name
        assert service["read_only"] is True
        assert set(service["environment"]) <= known


def test_pacs_profile_adds_orthanc_with_dicomweb_and_authentication_on_loopback() -> None:
    orthanc = _compose()["services"]["orthanc"]
    assert orthanc["profiles"] == ["pacs"]
    assert all(port.startswith("127.0.0.1:") for port in orthanc["ports"])
    environment = orthanc["environment"]
    assert environment["DICOM_WEB_PLUGIN_ENABLED"] == "true" and environment["ORTHANC__AUTHENTICATION_ENABLED"] == "true"
    assert "MEDSKILLS_DICOMWEB_PASSWORD" in environment["ORTHANC__REGISTERED_USERS"]


def test_dockerfile_runs_as_a_non_root_user_with_a_health_check() -> None:
    text = (SERVICE_DIR / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, flags=re.MULTILINE)
    assert "triage\", \"serve" in text and "COPY models" not in text


def test_every_setting_is_documented() -> None:
    docs = (REPO / "docs" / "triage_service.md").read_text()
    missing = [f"MEDSKILLS_{name.upper()}" for name in ServiceSettings.model_fields
               if f"MEDSKILLS_{name.upper()}" not in docs]
    assert missing == []
    assert "PHI" in docs
