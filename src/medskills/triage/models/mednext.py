"""MedNeXt multilabel classifier member: MONAI MedNeXt encoder, global average pool, linear head (§C.5).

The class names come from the pack (the reference's 22 names were never published, so none are
invented here). Checkpoint layout (our own, documented in ``docs/triage_models.md``): a state dict,
optionally under ``model_state`` with ``module.`` prefixes, holding ``encoder.{stem,enc_stages,
down_blocks,bottleneck}.*`` of ``monai.networks.nets.MedNeXt`` and ``head.1.{weight,bias}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.triage.models._member import (
    UnavailableMember,
    class_sources,
    probability_feature_names,
    probability_features,
)
from medskills.triage.models._torch_io import load_state_dict_strict, read_torch_weights
from medskills.triage.pack import LoadedPack
from medskills.dicom.volume import HUVolume
from medskills.triage.pack_manifest import MedNeXtArchitecture, MedNeXtMemberSpec, MedNeXtPreprocessing
from medskills.triage.preprocessing import StudyInputs, mednext_input

__all__ = ["MedNeXtMember", "build_mednext_classifier", "load_mednext_member", "mednext_feature_names"]

logger = logging.getLogger(__name__)

_ENCODER_PARTS = ("stem", "enc_stages", "down_blocks", "bottleneck")


def mednext_feature_names(spec: MedNeXtMemberSpec) -> tuple[str, ...]:
    """``mednext_<class>`` per pack class plus mean/max/top-3 aggregates."""
    return probability_feature_names(spec.name, spec.classes)


def build_mednext_classifier(architecture: MedNeXtArchitecture, classes: int) -> Any:
    """MONAI MedNeXt without its decoder, plus ``head`` = Dropout + Linear on the pooled bottleneck."""
    from monai.networks.nets import MedNeXt
    from torch import nn

    a = architecture
    encoder = MedNeXt(
        spatial_dims=3,
        init_filters=a.init_filters,
        in_channels=1,
        out_channels=1,
        encoder_expansion_ratio=a.encoder_expansion_ratio,
        bottleneck_expansion_ratio=a.encoder_expansion_ratio,
        kernel_size=a.kernel_size,
        blocks_down=a.blocks_down,
        blocks_bottleneck=a.blocks_bottleneck,
        blocks_up=a.blocks_down,
        global_resp_norm=a.use_grn,
    )
    for name in [child for child, _ in encoder.named_children() if child not in _ENCODER_PARTS]:
        delattr(encoder, name)
    channels = a.init_filters * 2 ** len(a.blocks_down)

    class MedNeXtClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = nn.Sequential(nn.Dropout(a.dropout), nn.Linear(channels, classes))

        def forward(self, x: Any) -> Any:
            x = self.encoder.stem(x)
            for stage, down in zip(self.encoder.enc_stages, self.encoder.down_blocks, strict=True):
                x = down(stage(x))
            return self.head(self.encoder.bottleneck(x).mean(dim=(2, 3, 4)))

    return MedNeXtClassifier()


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
        self._network = network

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """Per-class probabilities (sigmoid or softmax, from the pack) and the three aggregates."""
        import torch

        preprocessing = self.spec.preprocessing
        tensor = inputs.derive(
            preprocessing, lambda: mednext_input(inputs.volume, preprocessing, body_mask=_body_mask(preprocessing))
        )
        with torch.inference_mode():
            logits = self._network(tensor)[0].double()
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
    state = payload.get("model_state", payload) if isinstance(payload, dict) else payload
    state = {key.removeprefix("module."): value for key, value in state.items()}
    network = build_mednext_classifier(spec.architecture, len(spec.classes))
    load_state_dict_strict(network, state, where=checkpoint.path)
    return MedNeXtMember(spec, network.eval())
