"""`segment ctmr --modality MRI_BRAIN --preprocess`: recipe, the real bundle code, labels back on the input grid.

The bundle is the shrunken copy of the real NV-Segment-CTMR configs and scripts (``tiny_bundle`` in
``tests/integration/segmentation/conftest.py``: random ``vista3d132`` weights, narrower network, 6 mm
model spacing), so the run takes seconds after the preprocessing.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from pretrained_support import needs_brain_extra

from medskills.cli import app
from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.pretrained import locate_packaged_weights
from medskills.segmentation import SegmentationRequest, segment_ctmr
from medskills.segmentation.brain_preprocess.mask import ADULT_BRAIN_MASK_RANGE_ML
from medskills.segmentation.brain_preprocess.template import MNI152_TEMPLATE

pytestmark = [pytest.mark.slow, needs_brain_extra]


def _preflight(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["segment", "ctmr", *args, "--device", "cpu", "--preflight-only"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.usefixtures("bundle_env")
def test_preprocess_run_puts_the_bundle_labels_on_the_input_grid(shared_data: Path, tmp_path: Path) -> None:
    t1 = shared_data / "mr_brain_t1" / "image.nii.gz"
    request = SegmentationRequest(image_path=t1, modality="MRI_BRAIN", output_dir=tmp_path / "out", device="cpu",
                                  is_brain_preprocessing=True)
    record = segment_ctmr(request, settings=load_settings(), device_info=DeviceInfo(cuda_available=False))
    assert record.invocation is not None and record.invocation.exit_code == 0
    preprocessed = tmp_path / "out" / "brain_preprocess" / "preprocessed.nii.gz"
    assert str(preprocessed) in " ".join(record.invocation.argv)  # the bundle read the preprocessed image
    assert record.brain_preprocessing is not None
    low, high = ADULT_BRAIN_MASK_RANGE_ML
    assert low <= record.brain_preprocessing.mask.volume_ml <= high
    assert record.output is not None and record.output.mask_path is not None
    source, labels = nib.load(t1), nib.load(record.output.mask_path)
    assert labels.shape == source.shape and np.allclose(labels.affine, source.affine, atol=1e-4)
    geometry = next(g for g in record.gates if "geometry" in g.gate)
    assert geometry.status == Status.PASSED, geometry.message
    # the bundle's own output sits on the template grid; the reverted copy is what the record reads
    bundle_labels = nib.load(tmp_path / "out" / "bundle_output" / "preprocessed" / "preprocessed_trans.nii.gz")
    assert bundle_labels.shape == tuple(record.brain_preprocessing.template.shape)
    assert not any(w.code == "mri_brain_not_preprocessed" for w in record.preflight.warnings)


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
