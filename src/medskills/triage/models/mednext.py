"""MedNeXt multilabel classifier member: the Celsus_PLI ``MedNeXt3DClassifier`` (report §C.5).

Layout and forward are those of ``mednext/mednext_classifier3d.py`` in FscoreLab/Celsus_PLI: a
3x3x3 stride-2 unpadded ``stem`` convolution, ``stages.N`` of MedNeXt blocks, ``downsamples.N``
(stride-2 MedNeXt blocks with a 1x1x1 stride-2 ``res_conv``) between stages, global average pool,
``classifier`` = Dropout + Linear. The blocks are MONAI's (the same MedNeXt blocks); the original's
GRN parameters ``grn_gamma``/``grn_beta`` are MONAI's ``global_resp_gamma``/``global_resp_beta``,
renamed at load. A Celsus checkpoint (state dict, optionally under ``model_state`` with ``module.``
prefixes) loads strictly. The class names come from the pack (the reference's 22 names were never
published, so none are invented here).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import ModelPackError
from medskills.dicom.volume import HUVolume
from medskills.triage.models._member import (
    UnavailableMember,
    class_sources,
    probability_feature_names,
    probability_features,
)
from medskills.triage.models._torch_io import load_state_dict_strict, read_torch_weights
from medskills.triage.pack import LoadedPack
from medskills.triage.pack_manifest import MedNeXtArchitecture, MedNeXtMemberSpec, MedNeXtPreprocessing
from medskills.triage.preprocessing import StudyInputs, mednext_input

__all__ = [
    "MedNeXtMember",
    "build_mednext_classifier",
    "celsus_to_monai_keys",
    "load_mednext_member",
    "mednext_feature_names",
]

logger = logging.getLogger(__name__)

# Celsus block parameter suffix -> MONAI block parameter suffix (GRN only; all other names agree).
_CELSUS_TO_MONAI = {".grn_gamma": ".global_resp_gamma", ".grn_beta": ".global_resp_beta"}


def mednext_feature_names(spec: MedNeXtMemberSpec) -> tuple[str, ...]:
    """``mednext_<class>`` per pack class plus mean/max/top-3 aggregates."""
    return probability_feature_names(spec.name, spec.classes)


def celsus_to_monai_keys(state: Mapping[str, Any]) -> dict[str, Any]:
    """A Celsus ``MedNeXt3DClassifier`` state dict with ``module.`` dropped and GRN names made MONAI's."""
    renamed = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        for celsus, monai in _CELSUS_TO_MONAI.items():
            if key.endswith(celsus):
                key = key[: -len(celsus)] + monai
        renamed[key] = value
    return renamed


def build_mednext_classifier(architecture: MedNeXtArchitecture, classes: int) -> Any:
    """The Celsus ``MedNeXt3DClassifier`` (one input channel) built from MONAI MedNeXt blocks."""
    from monai.networks.blocks.mednext_block import MedNeXtBlock, MedNeXtDownBlock
    from torch import nn

    a = architecture
    block_options: dict[str, Any] = {
        "kernel_size": a.kernel_size,
        "use_residual_connection": True,
        "norm_type": a.norm_type,
        "dim": "3d",
        "global_resp_norm": a.use_grn,
    }

    class MedNeXt3DClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv3d(1, a.base_channels, kernel_size=3, stride=2, padding=0)
            self.stages = nn.ModuleList()
            self.downsamples = nn.ModuleList()
            channels = a.base_channels
            for index, blocks in enumerate(a.depth_config):
                ratio = a.expansion_ratio[index]
                stage = (MedNeXtBlock(channels, channels, ratio, **block_options) for _ in range(blocks))
                self.stages.append(nn.Sequential(*stage))
                if index < len(a.depth_config) - 1:
                    ratio = a.expansion_ratio[index + 1]
                    self.downsamples.append(MedNeXtDownBlock(channels, 2 * channels, ratio, **block_options))
                    channels *= 2
            self.classifier = nn.Sequential(nn.Dropout(a.dropout), nn.Linear(channels, classes))

        def forward(self, x: Any) -> Any:
            x = self.stem(x)
            for index, stage in enumerate(self.stages):
                x = stage(x)
                if index < len(self.downsamples):
                    x = self.downsamples[index](x)
            return self.classifier(x.mean(dim=(2, 3, 4)))

    return MedNeXt3DClassifier()


def _body_mask(preprocessing: MedNeXtPreprocessing) -> Callable[[HUVolume], np.ndarray] | None:
    """The shared DICOM-layer body mask, only when ``crop_by_body_part`` asks for it."""
    if not preprocessing.crop_by_body_part:
        return None
    from medskills.triage.chest import body_mask

    return body_mask


class MedNeXtMember:
    """Loaded once; one forward per study on the MedNeXt input (shared through ``StudyInputs``)."""

    def __init__(self, spec: MedNeXtMemberSpec, network: Any) -> None:
        self.spec = spec
        self.name = spec.name
        self.feature_names = mednext_feature_names(spec)
        self.finding_sources: Mapping[str, str] = class_sources(spec.name, spec.classes)
        self.network = network

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """Per-class probabilities (sigmoid or softmax, from the pack) and the three aggregates."""
        import torch

        preprocessing = self.spec.preprocessing
        tensor = inputs.derive(
            preprocessing, lambda: mednext_input(inputs.volume, preprocessing, body_mask=_body_mask(preprocessing))
        )
        with torch.inference_mode():
            logits = self.network(tensor)[0].double()
        activation = torch.sigmoid if self.spec.probability_activation == "sigmoid" else lambda t: t.softmax(dim=-1)
        return probability_features(self.spec.classes, activation(logits).numpy())


def load_mednext_member(pack: LoadedPack, spec: MedNeXtMemberSpec) -> MedNeXtMember | UnavailableMember:
    """Build the classifier for the pack's classes and load the checkpoint strictly."""
    checkpoint = pack.weight(spec.checkpoint)
    if checkpoint.path is None:
        reason = checkpoint.missing_reason or "checkpoint absent"
        logger.warning("member %s unavailable: %s", spec.name, reason)
        return UnavailableMember(spec.name, mednext_feature_names(spec), reason, class_sources(spec.name, spec.classes))
    payload = read_torch_weights(checkpoint.path)
    if not isinstance(payload, dict):
        raise ModelPackError(f"{checkpoint.path}: expected a state dict, found {type(payload).__name__}")
    state = celsus_to_monai_keys(payload.get("model_state", payload))
    network = build_mednext_classifier(spec.architecture, len(spec.classes))
    load_state_dict_strict(network, state, where=checkpoint.path)
    return MedNeXtMember(spec, network.eval())
