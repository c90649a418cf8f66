"""Supervised head on a CT-CLIP image latent: LayerNorm, Linear, sigmoid (report §C.2).

The checkpoint is the reference ``SimpleCTCLIPClassifier`` layout (FscoreLab/Celsus_PLI
``ct_clip_classifier.py``, ``latent_norm="layernorm"``): its state dict, bare or under
``model_state_dict``, with the CT-CLIP backbone under ``ct_clip.``, ``pre_head_norm.*`` and
``classifier.1.*``, and optionally ``target_pathologies``. Only the image tower of the backbone is
built (the original's dummy text forward does not change the image latent). The class list comes from the pack if given, else from the checkpoint; it is never hard-coded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import ModelPackError
from medskills.triage.models._member import (
    UnavailableMember,
    class_sources,
    probability_feature_names,
    probability_features,
)
from medskills.triage.models._torch_io import load_state_dict_strict, read_torch_weights
from medskills.triage.models.ctclip import encode_study_image, load_image_tower, select_prefixed, unwrap_state_dict
from medskills.triage.pack import LoadedPack
from medskills.triage.pack_manifest import SupervisedMemberSpec
from medskills.triage.preprocessing import StudyInputs

__all__ = ["SupervisedMember", "load_supervised_member", "supervised_feature_names"]

logger = logging.getLogger(__name__)


def supervised_feature_names(spec: SupervisedMemberSpec, classes: tuple[str, ...]) -> tuple[str, ...]:
    """``supervised_<class>`` per class plus mean/max/top-3 aggregates."""
    return probability_feature_names(spec.name, classes)


class SupervisedMember:
    """Loaded once; one image forward of its own backbone per study."""

    def __init__(self, spec: SupervisedMemberSpec, classes: tuple[str, ...], image_tower: Any, head: Any) -> None:
        self.spec = spec
        self.name = spec.name
        self.classes = classes
        self.feature_names = supervised_feature_names(spec, classes)
        self.finding_sources: Mapping[str, str] = class_sources(spec.name, classes)
        self.image_tower = image_tower
        self._head = head

    def probabilities(self, image_latent: Any) -> npt.NDArray[np.float64]:
        """Per-class sigmoid probabilities from one l2-normalised image latent [L]."""
        import torch

        with torch.inference_mode():
            return np.asarray(torch.sigmoid(self._head(image_latent[None]))[0].double().numpy(), dtype=np.float64)

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """Per-class sigmoid probabilities and the three aggregates."""
        latent = encode_study_image(inputs, self.image_tower, key=self.name, preprocessing=self.spec.preprocessing)
        return probability_features(self.classes, self.probabilities(latent))


def _build_head(state: Mapping[str, Any], classes: tuple[str, ...], latent_dim: int, *, where: Any) -> Any:
    from torch import nn

    head = nn.Sequential()
    head.add_module("pre_head_norm", nn.LayerNorm(latent_dim))
    head.add_module("classifier", nn.Sequential(nn.Dropout(0.0), nn.Linear(latent_dim, len(classes))))
    head_state = {k: v for k, v in state.items() if k.startswith(("pre_head_norm.", "classifier."))}
    load_state_dict_strict(head, head_state, where=where)
    return head.eval()


def _classes(spec: SupervisedMemberSpec, payload: Any, *, where: Any) -> tuple[str, ...]:
    if spec.classes:
        return spec.classes
    names = payload.get("target_pathologies") if isinstance(payload, dict) else None
    if not names:
        raise ModelPackError(
            f"{where}: the checkpoint has no 'target_pathologies' and the pack gives no 'classes' for member "
            f"{spec.name}; list the class names in pack.yaml."
        )
    return tuple(str(name) for name in names)


def load_supervised_member(pack: LoadedPack, spec: SupervisedMemberSpec) -> SupervisedMember | UnavailableMember:
    """Load backbone image tower and head strictly; class names from the pack or the checkpoint."""
    checkpoint = pack.weight(spec.checkpoint)
    if checkpoint.path is None:
        reason = checkpoint.missing_reason or "checkpoint absent"
        logger.warning("member %s unavailable: %s", spec.name, reason)
        names = probability_feature_names(spec.name, spec.classes or ())
        return UnavailableMember(spec.name, names, reason, class_sources(spec.name, spec.classes or ()))
    payload = read_torch_weights(checkpoint.path)
    state = unwrap_state_dict(payload, where=checkpoint.path)
    classes = _classes(spec, payload, where=checkpoint.path)
    unknown = sorted(k for k in state if not k.startswith(("ct_clip.", "pre_head_norm.", "classifier.")))
    if unknown:
        raise ModelPackError(f"{checkpoint.path}: keys outside the supervised layout (e.g. {unknown[:4]}).")
    tower = load_image_tower(select_prefixed(state, "ct_clip."), spec.architecture, prefix="", where=checkpoint.path)
    head = _build_head(state, classes, spec.architecture.dim_latent, where=checkpoint.path)
    return SupervisedMember(spec, classes, tower, head)
