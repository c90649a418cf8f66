"""`segment ctmr --modality MRI_BRAIN --preprocess` through the real, full-size NV-Segment-CTMR bundle.

The bundle is seg11's ``full_bundle`` fixture (``test_ctmr_real_upstream.py``): the real configs and
scripts copied unmodified and a randomly initialised full-size ``vista3d132`` (872 MB). The template grid
(197x233x189 at 1 mm) is one 192x192x128 window at the bundle's 1.5 mm. Random weights make the labels
meaningless; the test checks where they land: on the input grid, through the revert.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from integration.segmentation.test_ctmr_real_upstream import full_bundle  # noqa: F401 - seg11's fixture
from pretrained_support import needs_brain_extra

from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.segmentation import SegmentationRequest, segment_ctmr

pytestmark = [pytest.mark.slow, needs_brain_extra]


def test_full_bundle_preprocess_run_writes_labels_on_the_input_grid(
    full_bundle: Path, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    monkeypatch.setenv("NV_SEGMENT_CTMR_ROOT", str(full_bundle))
    monkeypatch.setenv("MEDSKILLS_ALLOW_NO_GPU", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    t1 = shared_data / "mr_brain_t1" / "image.nii.gz"
    request = SegmentationRequest(image_path=t1, modality="MRI_BRAIN", output_dir=tmp_path / "out", device="cpu",
                                  prompts="214,215", is_brain_preprocessing=True, is_confirmed=True,
                                  timeout_seconds=1800)
    record = segment_ctmr(request, settings=load_settings(), device_info=DeviceInfo(cuda_available=False))
    assert record.invocation is not None and record.invocation.exit_code == 0, record.failure_reasons
    assert record.invocation.cwd == full_bundle
    assert str(tmp_path / "out" / "brain_preprocess" / "preprocessed.nii.gz") in " ".join(record.invocation.argv)
    bundle_labels = nib.load(tmp_path / "out" / "bundle_output" / "preprocessed" / "preprocessed_trans.nii.gz")
    assert record.brain_preprocessing is not None
    assert bundle_labels.shape == tuple(record.brain_preprocessing.template.shape)
    assert record.output is not None and record.output.mask_path is not None
    source, labels = nib.load(t1), nib.load(record.output.mask_path)
    assert labels.shape == source.shape and np.allclose(labels.affine, source.affine, atol=1e-4)
    assert set(np.unique(np.asarray(labels.dataobj)).tolist()) <= {0, 214, 215}
    gates = {gate.gate: gate.status for gate in record.gates}
    assert gates["geometry_matches_input"] == Status.PASSED
    assert not any(w.code == "mri_brain_not_preprocessed" for w in record.preflight.warnings)
