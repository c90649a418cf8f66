"""The PyTorch port of deepbrain against TensorFlow's own run of the same graph on the real T1.

``benchmarks/results/deepbrain_tensorflow_reference.json`` was produced by
``benchmarks/deepbrain_tensorflow_reference.py`` (TensorFlow 2.21 ``compat.v1`` and scikit-image, in a
separate venv, following ``deepbrain.Extractor.run``).
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pretrained_support import needs_deepbrain

from medskills.core.errors import EnvironmentProblem, InputError
from medskills.pretrained import DEEPBRAIN_WEIGHTS, DeepbrainModel, load_deepbrain, locate_packaged_weights
from medskills.pretrained.deepbrain import NETWORK_SIZE, resize_like_skimage

pytestmark = needs_deepbrain
REFERENCE = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "deepbrain_tensorflow_reference.json"


@pytest.fixture(scope="module")
def model() -> DeepbrainModel:
    return load_deepbrain()


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def t1(shared_data: Path) -> np.ndarray:
    return np.asanyarray(nib.load(shared_data / "mr_brain_t1" / "image.nii.gz").dataobj)


def test_port_reproduces_tensorflow_on_the_network_grid(model: DeepbrainModel, reference: dict, t1: np.ndarray) -> None:
    small = resize_like_skimage(t1, (NETWORK_SIZE,) * 3)
    network_input = (small / small.max()).astype(np.float32)
    assert float(network_input.astype(np.float64).sum()) == pytest.approx(reference["network_input_sum"], rel=1e-5)
    probability = model.run_network(network_input)
    assert int((probability > 0.5).sum()) == reference["mask_128_voxels"]
    assert float(probability.astype(np.float64).sum()) == pytest.approx(reference["probability_128_sum"], rel=1e-5)
    for key, expected in reference["probes_128"].items():
        assert float(probability[tuple(int(v) for v in key.split(","))]) == pytest.approx(expected, abs=1e-5), key


def test_port_reproduces_tensorflow_on_the_full_grid(model: DeepbrainModel, reference: dict, t1: np.ndarray) -> None:
    probability = model.predict_probability(t1)
    assert probability.shape == t1.shape
    assert int((probability > 0.5).sum()) == reference["mask_full_voxels"]


def test_an_empty_volume_is_refused(model: DeepbrainModel) -> None:
    with pytest.raises(InputError, match="no positive intensity"):
        model.predict_probability(np.zeros((20, 20, 20), dtype=np.float32))


def test_a_graph_without_the_unet_layers_is_refused(tmp_path: Path) -> None:
    truncated = tmp_path / "graph.pb"
    truncated.write_bytes(locate_packaged_weights(DEEPBRAIN_WEIGHTS).read_bytes()[:2000])
    with pytest.raises(EnvironmentProblem):
        load_deepbrain(truncated)
