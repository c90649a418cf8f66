"""Command-line surface: --version, python -m medskills, enum options (case-insensitive), shim usage lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medskills import __version__
from medskills.cli import app

REPO_ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_version_flag_and_python_dash_m_medskills() -> None:
    done = subprocess.run([sys.executable, "-m", "medskills", "--version"], capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")})
    assert done.returncode == 0 and done.stdout.strip() == f"medskills {__version__}"


@pytest.mark.parametrize(("argv", "field", "expected"), [
    (["synth", "mr-brain", "default", "--modality", "MRI_FLAIR"], ("request", "modality_name"), "mri_flair"),
    (["segment", "ctmr", "{image}", "--modality", "ct_body", "--device", "cpu"], ("request", "modality"), "CT_BODY"),
    (["synth", "ct-from-mask", "{labels}", "--source-labels", "TotalSegmentator", "--add-body-envelope", "{image}"],
     ("request", "source_labels"), "totalsegmentator"),
])
def test_closed_set_options_are_enums_matched_case_insensitively(
    argv: list[str], field: tuple[str, str], expected: str, tmp_path: Path, shared_data: Path,
) -> None:
    scan = shared_data / "ct_abdomen_3mm"
    filled = [a.format(image=scan / "image.nii.gz", labels=scan / "reference_totalsegmentator.nii.gz") for a in argv]
    result = runner.invoke(app, [*filled, "--output-dir", str(tmp_path / "out"), "--preflight-only"])
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)[field[0]][field[1]] == expected


def test_anatomy_region_lists_its_choices_in_help_and_matches_any_letter_case() -> None:
    from medskills.synthesis.nv_generate.anatomy import REGION_NAMES

    helped = runner.invoke(app, ["anatomy", "list", "--help"], env={"COLUMNS": "300"})
    assert f"[{'|'.join(REGION_NAMES)}]" in helped.stdout and "thorax" in REGION_NAMES
    listed = runner.invoke(app, ["anatomy", "list", "--region", "THORAX", "--filter", "lobe"])
    assert listed.exit_code == 0 and json.loads(listed.stdout)["region"] == "chest"
    refused = runner.invoke(app, ["anatomy", "list", "--region", "thorx"])
    assert refused.exit_code == 2 and "'thorax'" in refused.stdout


def test_an_unknown_enum_value_lists_the_choices_and_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "mr-brain", "default", "--modality", "mri_t3", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "mri_t1" in result.stderr and not (tmp_path / "o").exists()


@pytest.mark.parametrize("shim", ["skills/nv-segment-ctmr/scripts/run_ctmr.py",
                                  "skills/nv-generate-ct-rflow/scripts/run_rflow_ct.py",
                                  "skills/nv-generate-mr-brain/scripts/run_mr_brain.py"])
def test_shim_usage_line_names_the_script_so_it_works_when_typed(shim: str) -> None:
    done = subprocess.run([sys.executable, str(REPO_ROOT / shim), "--help"], capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")})
    usage = next(line for line in done.stdout.splitlines() if "Usage:" in line)
    assert done.returncode == 0 and f"Usage: {Path(shim).name} [OPTIONS]" in usage
    assert "segment ctmr" not in usage and "synth" not in usage


def test_a_command_line_click_rejects_still_ends_with_one_json_record_on_stdout(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "medskills", "synth", "mr-brain", "default", "--modality", "mri_t3",
                           "--output-dir", str(tmp_path / "o")], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")})
    record = json.loads(done.stdout)
    assert done.returncode == 2 == record["exit_code"] and record["error_type"] == "UsageError"
    assert "--modality" in record["error"] and "Invalid value for '--modality'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "o").exists()
