"""``/``, ``/health``, ``/ready`` and the docs: they answer without the worker, and ``/ready`` says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage_service_support.app_client import service_client
from triage_service_support.predictors import FixedPredictor


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_ready_names_the_members_or_says_why_not(work_dir: Path) -> None:
    with service_client(work_dir) as client:
        response = client.get("/ready")
        assert response.status_code == 503 and "MEDSKILLS_PACK_DIR" in response.json()["reason"]
    with service_client(work_dir, FixedPredictor()) as client:
        body = client.get("/ready").json()
        assert body["ready"] and body["members_available"] == ["astra_head", "tiny_mednext"]
        assert body["members_unavailable"] == [{"name": "fvlm", "reason": "not implemented"}]
        assert body["model_version"] == "test-pack-1"


def test_ready_is_503_while_no_member_is_available(work_dir: Path) -> None:
    with service_client(work_dir, FixedPredictor(members=[])) as client:
        response = client.get("/ready")
    body = response.json()
    assert response.status_code == 503 and not body["ready"] and body["members_available"] == []
    assert "no ensemble member is available" in body["reason"]


def test_a_broken_pack_leaves_the_service_not_ready(work_dir: Path, tmp_path: Path) -> None:
    with service_client(work_dir, pack_dir=tmp_path / "no_pack") as client:
        response = client.get("/ready")
    assert response.status_code == 503 and "failed to load" in response.json()["reason"]
