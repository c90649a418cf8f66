"""The GraphDef reader: TensorFlow's frozen-graph constants through protobuf, no TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import EnvironmentProblem
from pretrained_support import needs_deepbrain

from medskills.pretrained import DEEPBRAIN_WEIGHTS, locate_packaged_weights
from medskills.pretrained._graphdef import read_float_constants

pytestmark = needs_deepbrain


@pytest.fixture(scope="module")
def constants() -> dict[str, np.ndarray]:
    return read_float_constants(locate_packaged_weights(DEEPBRAIN_WEIGHTS))


def test_reads_every_weight_of_deepbrains_unet(constants: dict[str, np.ndarray]) -> None:
    weights = {name: value for name, value in constants.items() if name.endswith(("/kernel", "/bias"))}
    # 171,465 parameters, the count reported for this graph in ../shared/research/offline_models.md
    assert sum(value.size for value in weights.values()) == 171_465
    assert constants["conv3d/kernel"].shape == (3, 3, 3, 1, 8)
    assert constants["conv3d_transpose_1/kernel"].shape == (3, 3, 3, 16, 32)


def test_reads_a_one_value_tensor_stored_as_float_val(constants: dict[str, np.ndarray]) -> None:
    # conv3d_9/bias has no tensor_content: its single value is in float_val
    assert constants["conv3d_9/bias"].shape == (1,)
    assert np.isfinite(constants["conv3d_9/bias"]).all()


def test_refuses_a_file_that_is_not_a_graphdef(tmp_path: Path) -> None:
    broken = tmp_path / "graph.pb"
    broken.write_bytes(b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
    with pytest.raises(EnvironmentProblem, match="is not a TensorFlow GraphDef"):
        read_float_constants(broken)
