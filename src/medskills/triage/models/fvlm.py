"""fVLM organ-level zero-shot member (report §C.4): defined, NOT implemented in this release.

Place in the ensemble: first in the reference order; here any position (features are named).
Contract when implemented: a LAVIS ``blip_pretrain_vit``-style 3-D ViT-B (patch 16x16x32) from
``checkpoint`` + ``vision_init`` and a CXR-BERT text tower from the local ``text_encoder``
directory, all read without pickles; organ masks (lungs, heart, aorta) from a segmentation of the
canonical volume; per organ, P(positive) from the [negative, positive] prompt softmax for the 18
findings below. An organ that is absent makes its findings NaN. Until then every feature is NaN.
"""

from __future__ import annotations

from medskills.triage.models._member import UnavailableMember, class_sources, probability_feature_names
from medskills.triage.pack import LoadedPack
from medskills.triage.pack_manifest import FVLMMemberSpec

__all__ = ["FVLM_FINDINGS", "NOT_IMPLEMENTED_REASON", "fvlm_feature_names", "load_fvlm_member"]

FVLM_FINDINGS: tuple[str, ...] = (
    "Emphysema",
    "Atelectasis",
    "Lung nodule",
    "Lung opacity",
    "Pulmonary fibrotic sequela",
    "Pleural effusion",
    "Mosaic attenuation pattern",
    "Peribronchial thickening",
    "Consolidation",
    "Bronchiectasis",
    "Interlobular septal thickening",
    "Pneumothorax",
    "Lung cancer",
    "Cardiomegaly",
    "Pericardial effusion",
    "Coronary artery wall calcification",
    "Arterial wall calcification",
    "Aortic aneurysm",
)

NOT_IMPLEMENTED_REASON = (
    "fVLM (3-D ViT + CXR-BERT organ-level model, needs organ segmentation) is not implemented in this "
    "release; its features are NaN"
)


def fvlm_feature_names(spec: FVLMMemberSpec) -> tuple[str, ...]:
    """``<name>_<finding>`` for the 18 findings, then the three aggregates."""
    return probability_feature_names(spec.name, FVLM_FINDINGS)


def load_fvlm_member(pack: LoadedPack, spec: FVLMMemberSpec) -> UnavailableMember:
    """Always an unavailable member with NaN features (see the module docstring)."""
    return UnavailableMember(
        spec.name, fvlm_feature_names(spec), NOT_IMPLEMENTED_REASON, class_sources(spec.name, FVLM_FINDINGS)
    )
