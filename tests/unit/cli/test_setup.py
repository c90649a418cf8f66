"""`medskills doctor` and `medskills setup` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from medskills.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _workbench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSKILLS_WORKBENCH_DIR", str(tmp_path))


def test_doctor_json_validates_against_the_exported_schema() -> None:
    schema = json.loads(runner.invoke(app, ["doctor", "--schema"]).stdout)
    result = runner.invoke(app, ["doctor", "--skill", "segment-ctmr", "--json"])
    payload = json.loads(result.stdout)
    jsonschema.validate(payload, schema)
    assert result.exit_code == 1 == payload["exit_code"]  # no upstream clone in the test workbench
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**payload, "rows": [{"area": "x"}]}, schema)


def test_doctor_prints_one_table_with_a_verdict() -> None:
    result = runner.invoke(app, ["doctor", "--no-hash"])
    assert result.exit_code == 1  # this test machine has no upstream clone: those rows fail
    for text in ("medskills doctor", "python", "torch", "numpy", "disk space", "HF offline mode", "cannot run"):
        assert text in result.stdout


def test_setup_refuses_offline_mode_and_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "runs" / "upstreams"
    result = runner.invoke(app, ["setup", "synth-ct", "--root", str(root)])  # conftest sets HF_HUB_OFFLINE=1
    assert result.exit_code == 2
    assert "HF_HUB_OFFLINE" in json.loads(result.stdout)["error"]
    assert not root.exists()


def test_setup_rejects_an_unknown_skill() -> None:
    result = runner.invoke(app, ["setup", "synth-xx"])
    assert result.exit_code == 2


def test_setup_rejects_a_short_revision(tmp_path: Path) -> None:
    result = runner.invoke(app, ["setup", "segment-ctmr", "--root", str(tmp_path), "--revision", "4fb8b4a6"])
    assert result.exit_code == 2
    assert "hub_revision" in result.stdout


def test_doctor_covers_the_triage_service_pack_and_extras() -> None:
    result = runner.invoke(app, ["doctor", "--no-hash", "--json"])
    rows = [row for row in json.loads(result.stdout)["rows"] if row["area"] == "triage"]
    assert {row["name"] for row in rows} >= {"model pack", "extra: service", "extra: models"}
    pack = next(row for row in rows if row["name"] == "model pack")
    assert pack["status"] == "warn" and "built-in pack" in pack["detail"] and "no probability" in pack["detail"]
    assert "MEDSKILLS_PACK_DIR" in pack["fix"]


def test_doctor_says_the_service_is_not_ready_when_no_pack_and_the_built_in_pack_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDSKILLS_BUILTIN_PACK", "0")
    result = runner.invoke(app, ["doctor", "--no-hash", "--json"])
    pack = next(row for row in json.loads(result.stdout)["rows"] if row["name"] == "model pack")
    assert pack["status"] == "warn" and "not ready" in pack["detail"]
