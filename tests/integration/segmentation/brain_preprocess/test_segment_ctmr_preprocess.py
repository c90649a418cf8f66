"""Preflight of `segment ctmr` around --preprocess (the full run is in ..._full_bundle.py).

The bundle is the shrunken copy of the real NV-Segment-CTMR configs and scripts (``tiny_bundle`` in
``tests/integration/segmentation/conftest.py``); only preflight runs here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pretrained_support import needs_brain_extra

from medskills.cli import app
from medskills.pretrained import locate_packaged_weights
from medskills.segmentation.brain_preprocess.template import MNI152_TEMPLATE

pytestmark = [pytest.mark.slow, needs_brain_extra]


def _preflight(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["segment", "ctmr", *args, "--device", "cpu", "--preflight-only"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.usefixtures("bundle_env")
def test_without_preprocess_a_raw_t1_is_warned_off_the_template_grid(shared_data: Path, tmp_path: Path) -> None:
    code, record = _preflight(str(shared_data / "mr_brain_t1" / "image.nii.gz"), "--modality", "MRI_BRAIN",
                              "--output-dir", str(tmp_path / "o"))
    assert code == 0
    warning = next(w for w in record["preflight"]["warnings"] if w["code"] == "mri_brain_not_preprocessed")
    assert "template_grid" in warning["message"] and "--preprocess" in warning["fix"]


@pytest.mark.usefixtures("bundle_env")
def test_an_input_on_the_mni_grid_passes_the_template_grid_heuristic(tmp_path: Path) -> None:
    template = locate_packaged_weights(MNI152_TEMPLATE)
    code, record = _preflight(str(template), "--modality", "MRI_BRAIN", "--output-dir", str(tmp_path / "o"))
    assert code == 0
    heuristics = {h["name"]: h for h in record["plan"]["brain_heuristics"]}
    assert heuristics["template_grid"]["is_passed"] is True, heuristics["template_grid"]


@pytest.mark.usefixtures("bundle_env")
def test_preprocess_is_refused_for_ct(shared_data: Path, tmp_path: Path) -> None:
    code, record = _preflight(str(shared_data / "ct_abdomen_3mm" / "image.nii.gz"), "--modality", "CT_BODY",
                              "--preprocess", "--output-dir", str(tmp_path / "o"))
    assert code == 2
    assert any("preprocess_needs_mri_brain" in reason for reason in record["failure_reasons"])
