"""Reading a run's record for a verifier: runs that never ran and runs of another kind are clear exit-2 errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medskills.cli import app

runner = CliRunner()
VERIFIERS = {"ct-synthesis": "nv-generate-ct-rflow", "mr-synthesis": "nv-generate-mr-brain",
             "segmentation": "nv-segment-ctmr"}
CANONICAL = {"ct-synthesis": "synth-ct", "mr-synthesis": "synth-mr-brain", "segmentation": "segment-ctmr"}


def _verify(verifier: str, run_dir: Path) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["verify", verifier, str(run_dir)])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(scope="module")
def preflight_only_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ``synth mr-brain --preflight-only`` folder (this machine has no upstream: blocked, exit 0)."""
    run_dir = tmp_path_factory.mktemp("preflight") / "run"
    result = runner.invoke(app, ["synth", "mr-brain", "default", "--output-dir", str(run_dir), "--preflight-only"])
    assert result.exit_code == 0, result.stdout
    return run_dir


@pytest.mark.parametrize("verifier", sorted(VERIFIERS))
def test_a_preflight_only_run_is_an_exit_2_error_saying_nothing_ran(verifier: str, preflight_only_run: Path) -> None:
    code, record = _verify(verifier, preflight_only_run)
    assert code == 2 == record["exit_code"] and record["error_type"] == "InputError"
    assert "never started the upstream" in str(record["error"]) and "--preflight-only" in str(record["error"])
    assert "Input should be" not in str(record["error"])


@pytest.mark.parametrize(("verifier", "foreign_skill"), [
    (verifier, names[other]) for names in (VERIFIERS, CANONICAL) for verifier in sorted(names) for other in names
    if other != verifier
])
def test_a_run_of_another_kind_names_the_right_verifier(verifier: str, foreign_skill: str, tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(json.dumps({"skill": foreign_skill, "output": {"samples": []}}))
    code, record = _verify(verifier, tmp_path)
    right = next(name for names in (VERIFIERS, CANONICAL) for name, skill in names.items() if skill == foreign_skill)
    assert code == 2 and f"is a {foreign_skill} run" in str(record["error"])
    assert f"Use `medskills verify {right}`" in str(record["error"])


def test_an_image_only_ct_run_is_not_graded_as_a_paired_run(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(json.dumps({"skill": "nv-generate-ct-rflow", "mode": "ct-image",
                                                      "output": {"samples": []}}))
    code, record = _verify("ct-synthesis", tmp_path)
    assert code == 2 and "(ct-image)" in str(record["error"]) and "paired CT" in str(record["error"])


@pytest.mark.parametrize("verifier", sorted(VERIFIERS))
def test_a_verifiers_own_record_is_refused_as_not_a_run(verifier: str, tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(json.dumps({"skill": "ct_synthesis_quality_v1", "status": "passed",
                                                      "output": {"verifier": "ct_synthesis_quality_v1"}}))
    code, record = _verify(verifier, tmp_path)
    assert code == 2 and "is the record of the verifier ct_synthesis_quality_v1" in str(record["error"])


def test_ct_pair_consistency_on_a_segmentation_run_names_itself_and_the_right_verifier(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(json.dumps({"skill": "segment-ctmr", "output": {"mask_path": "x"}}))
    code, record = _verify("ct-pair-consistency", tmp_path)
    assert code == 2 and "`medskills verify ct-pair-consistency` grades" in str(record["error"])
    assert "Use `medskills verify segmentation`" in str(record["error"])
