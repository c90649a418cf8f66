"""deepbrain brain extraction for T1 MRI: its frozen graph run by our own PyTorch port, no TensorFlow.

``deepbrain`` 0.1 (MIT, Ivan Itzcovich, 2018) ships a 3D U-Net as ``deepbrain/models/graph.pb``
(171,465 float32 weights). Its own ``Extractor`` needs the TensorFlow 1 API; here the constants are
read from the graph file and the same network runs in torch. The pre- and post-processing follow
``Extractor.run``: resize to 128^3 with scikit-image's ``resize`` (Gaussian anti-aliasing, then
linear interpolation, constant padding; reproduced with scipy), divide by the maximum, and resize
the probability back. ``tests/integration/pretrained/test_deepbrain.py`` pins the port against
TensorFlow's own output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import EnvironmentProblem, InputError
from medskills.pretrained._graphdef import read_float_constants
from medskills.pretrained._weights import PackagedWeights, locate_packaged_weights

__all__ = ["ADULT_BRAIN_MASK_RANGE_ML", "DEEPBRAIN_WEIGHTS", "DeepbrainModel", "load_deepbrain", "resize_like_skimage"]

# deepbrain's mask holds brain and CSF (ventricles, sulci), so it is compared with intracranial volume:
# Matsumae et al. 1996 (J Neurosurg 84:982-991, MRI, 49 adults aged 24-80) report 1,469 +/- 102 mL for
# men and 1,289 +/- 111 mL for women. The range is women's mean - 4 SD to men's mean + 4 SD.
ADULT_BRAIN_MASK_RANGE_ML = (845.0, 1877.0)

DEEPBRAIN_WEIGHTS = PackagedWeights(
    distribution="deepbrain",
    version="0.1",
    relative_path="deepbrain/models/graph.pb",
    sha256="6be50752ff151808dc7f8059fef39852759de8502d831949b40e991502225a2a",
    install_command="pip install --no-deps deepbrain==0.1",
)
NETWORK_SIZE = 128
_ENCODER = (("conv3d", "conv3d_1"), ("conv3d_2", "conv3d_3"), ("conv3d_4", "conv3d_5"))
_DECODER = (("conv3d_transpose", "conv3d_6"), ("conv3d_transpose_1", "conv3d_7"), ("conv3d_transpose_2", "conv3d_8"))
_HEAD = "conv3d_9"


def resize_like_skimage(volume: npt.NDArray[np.floating], shape: tuple[int, ...]) -> npt.NDArray[np.float64]:
    """``skimage.transform.resize(volume, shape, mode="constant", anti_aliasing=True)`` with scipy.

    A Gaussian of sigma ``(factor - 1) / 2`` along each shrunk axis, then linear interpolation on the
    pixel-area grid (``grid_mode``), zero outside the volume.
    """
    from scipy import ndimage

    data = np.asarray(volume, dtype=np.float64)
    factors = np.asarray(data.shape, dtype=np.float64) / np.asarray(shape, dtype=np.float64)
    sigma = np.maximum(0.0, (factors - 1.0) / 2.0)
    if np.any(sigma > 0):
        data = ndimage.gaussian_filter(data, sigma, mode="constant", cval=0.0)
    return np.asarray(ndimage.zoom(data, 1.0 / factors, order=1, mode="grid-constant", cval=0.0, grid_mode=True))


@dataclass(frozen=True)
class DeepbrainModel:
    """The loaded network (torch, CPU, eval) and the weight file it came from."""

    weights_path: Path
    weights_sha256: str
    kernels: dict[str, Any]

    def predict_probability(self, volume: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        """Brain probability in [0, 1] for every voxel of a T1 ``volume`` (same shape, same axis order).

        Raises:
            InputError: the volume is not 3D or has no positive voxel.
        """
        data = np.asarray(volume)
        if data.ndim != 3:
            raise InputError(f"deepbrain needs a 3D volume; got shape {data.shape}.")
        small = resize_like_skimage(data, (NETWORK_SIZE,) * 3)
        peak = float(small.max())
        if not peak > 0:
            raise InputError("the T1 volume has no positive intensity; deepbrain cannot find a brain in it.")
        probability = self.run_network((small / peak).astype(np.float32))
        return resize_like_skimage(probability, data.shape).astype(np.float32)

    def run_network(self, network_input: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The U-Net on a normalised 128^3 input; returns the 128^3 sigmoid output."""
        import torch
        import torch.nn.functional as F

        kernels = self.kernels

        def conv(x: Any, name: str) -> Any:
            weight = kernels[f"{name}/kernel"]
            return F.relu(F.conv3d(x, weight, kernels[f"{name}/bias"], padding=weight.shape[-1] // 2))

        def up(x: Any, name: str) -> Any:
            # TensorFlow's SAME stride-2 transposed conv pads 0 before and 1 after: keep the first 2n planes
            out = F.conv_transpose3d(x, kernels[f"{name}/kernel"], stride=2)
            return out[..., : 2 * x.shape[-3], : 2 * x.shape[-2], : 2 * x.shape[-1]]

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(network_input))[None, None]
            skips = []
            for first, second in _ENCODER:
                x = conv(conv(x, first), second)
                skips.append(x)
                x = F.max_pool3d(x, 2)
            for (transpose, fuse), skip in zip(_DECODER, reversed(skips), strict=True):
                x = conv(torch.cat([up(x, transpose), skip], dim=1), fuse)
            head = kernels[f"{_HEAD}/kernel"]
            logits = F.conv3d(x, head, kernels[f"{_HEAD}/bias"])
            return np.asarray(torch.sigmoid(logits)[0, 0].numpy(), dtype=np.float32)


def load_deepbrain(weights_path: Path | None = None) -> DeepbrainModel:
    """Load deepbrain's graph (the installed, sha256-checked file unless ``weights_path`` is given).

    Raises:
        EnvironmentProblem: the weights are not installed, altered, or lack a layer the network needs.
    """
    import torch

    from medskills.core.io import sha256_file

    path = locate_packaged_weights(DEEPBRAIN_WEIGHTS) if weights_path is None else Path(weights_path)
    constants = read_float_constants(path)
    names = [name for pair in (*_ENCODER, *_DECODER) for name in pair] + [_HEAD]
    wanted = [f"{name}/kernel" for name in names] + [f"{name}/bias" for name in names if "transpose" not in name]
    missing = [key for key in wanted if key not in constants]
    if missing:
        raise EnvironmentProblem(f"{path} lacks {', '.join(missing[:4])}: it is not deepbrain 0.1's graph. "
                                 f"Reinstall: {DEEPBRAIN_WEIGHTS.install_command} --force-reinstall")
    # TensorFlow kernels are [d, h, w, in, out] (transposed convs: [d, h, w, out, in]); torch wants channels first
    kernels = {key: torch.from_numpy(constants[key].transpose(4, 3, 0, 1, 2).copy()) if key.endswith("/kernel")
               else torch.from_numpy(constants[key].copy()) for key in wanted}
    return DeepbrainModel(weights_path=path, weights_sha256=sha256_file(path), kernels=kernels)
