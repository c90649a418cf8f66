"""The fixed pathology vocabulary, its anatomical groups, and the ``top_pathologies`` rule.

The 55 CT-CLIP prompt names and the ten groups follow the reference service (research report §C.1
and §C.8); the quantitative-CT member adds "Medical material" (group ``postop``). A pack may carry
its own vocabulary (:class:`medskills.triage.pack.FindingSpec`); this module supplies the defaults
and the ranking rule.

Rule for ``top_pathologies`` (also in ``docs/triage_models.md``):

1. Only when the main stacker says ``pathology == 1``; otherwise the list is empty.
2. Each vocabulary finding's score is the maximum of its source features that are available
   (NaN sources are skipped; a finding with no available source has no score).
3. A finding qualifies when its score is at least its own threshold.
4. Qualifying findings are ranked by score, descending (ties keep vocabulary order), and the first
   ``top_k`` are returned by display name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "CTCLIP_PROMPT_NAMES",
    "PATHOLOGY_GROUPS",
    "QCT_FINDING_NAMES",
    "UNGROUPED",
    "RankedFinding",
    "group_of",
    "rank_findings",
]

UNGROUPED = "ungrouped"

_CTCLIP_PROMPTS: tuple[tuple[str, str], ...] = (
    ("Pathological finding", UNGROUPED),
    ("Pulmonary nodule", "lung_parenchyma"),
    ("Lymphangitic carcinomatosis", "lung_parenchyma"),
    ("Pneumonia", "lung_parenchyma"),
    ("Tuberculosis", "lung_parenchyma"),
    ("Bronchiectasis", "airways"),
    ("Chronic bronchitis", "airways"),
    ("Bronchial obstruction", "airways"),
    ("Pulmonary emphysema", "lung_parenchyma"),
    ("Pulmonary fibrosis", "lung_parenchyma"),
    ("Pneumoconiosis", "lung_parenchyma"),
    ("Pulmonary edema", "lung_parenchyma"),
    ("Atelectasis", "lung_parenchyma"),
    ("Pleural effusion", "pleural"),
    ("Pleural thickening", "pleural"),
    ("Pleural plaques", "pleural"),
    ("Pneumothorax", "pleural"),
    ("Hemothorax", "pleural"),
    ("Consolidation", "lung_parenchyma"),
    ("Ground-glass opacity", "lung_parenchyma"),
    ("Crazy-paving pattern", "lung_parenchyma"),
    ("Tree-in-bud pattern", "lung_parenchyma"),
    ("Mosaic attenuation", "lung_parenchyma"),
    ("Cavitation", "lung_parenchyma"),
    ("Pulmonary embolism", "vascular"),
    ("Chronic thromboembolic disease", "vascular"),
    ("Main pulmonary artery enlargement", "vascular"),
    ("Pulmonary arteriovenous malformation", "vascular"),
    ("Mediastinal or hilar lymphadenopathy", "mediastinum"),
    ("Sarcoidosis", "mediastinum"),
    ("Thymoma", "mediastinum"),
    ("Lymphoma", "mediastinum"),
    ("Mediastinal cyst", "mediastinum"),
    ("Retrosternal goiter", "mediastinum"),
    ("Pericardial effusion", "cardiac"),
    ("Cardiac chamber enlargement", "cardiac"),
    ("Coronary artery calcification", "vascular"),
    ("Aortic dissection", "vascular"),
    ("Rib fracture", "chest_wall"),
    ("Vertebral compression fracture", "bone_spine"),
    ("Bone metastases", "bone_spine"),
    ("Chest wall mass or invasion", "chest_wall"),
    ("Subcutaneous emphysema", "chest_wall"),
    ("Diaphragmatic hernia", "chest_wall"),
    ("Hiatal hernia", "chest_wall"),
    ("Pneumomediastinum", "mediastinum"),
    ("Hydropneumothorax", "pleural"),
    ("Radiation pneumonitis", "lung_parenchyma"),
    ("Postoperative changes (lobectomy or pneumonectomy)", "postop"),
    ("Scoliosis", "bone_spine"),
    ("Pectus excavatum or carinatum", "chest_wall"),
    ("Degenerative spine changes", "bone_spine"),
    ("Thyroid nodule", "incidentalomas"),
    ("Breast mass", "incidentalomas"),
    ("Other pathology", UNGROUPED),
)
"""CT-CLIP's prompt names in the published order (the order of its prompt latents), each with its group."""

_GROUPS = ("lung_parenchyma", "airways", "vascular", "pleural", "mediastinum", "cardiac", "chest_wall", "bone_spine", "postop", "incidentalomas")

CTCLIP_PROMPT_NAMES: tuple[str, ...] = tuple(name for name, _ in _CTCLIP_PROMPTS)

QCT_FINDING_NAMES: tuple[str, ...] = ("Pulmonary emphysema", "Medical material")
"""Findings of the quantitative-CT member (``medskills.triage.models.qct``); "Medical material" is a
CT-RATE class (Hamamci et al., arXiv:2403.17834) that CT-CLIP's prompts do not hold."""

PATHOLOGY_GROUPS: Mapping[str, tuple[str, ...]] = {
    group: tuple(name for name, of in (*_CTCLIP_PROMPTS, ("Medical material", "postop")) if of == group)
    for group in _GROUPS
}
"""Group -> its vocabulary names (CT-CLIP prompt order; the quantitative-CT "Medical material" last)."""


def group_of(name: str) -> str:
    """Return the anatomical group of a vocabulary name, or ``"ungrouped"``."""
    for group, members in PATHOLOGY_GROUPS.items():
        if name in members:
            return group
    return UNGROUPED


@dataclass(frozen=True)
class RankedFinding:
    """One qualifying finding: display name, group, score in [0, 1] and the threshold it passed."""

    name: str
    group: str
    score: float
    threshold: float


def rank_findings(
    features: Mapping[str, float],
    rules: Sequence[tuple[str, str, float, Sequence[str]]],
    *,
    is_pathology: bool,
    top_k: int,
) -> list[RankedFinding]:
    """Apply the ``top_pathologies`` rule (see the module docstring).

    Args:
        features: feature name -> value (NaN for unavailable members).
        rules: ``(name, group, threshold, source feature names)`` per vocabulary finding, in
            vocabulary order.
        is_pathology: the main stacker's decision; ``False`` gives an empty list.
        top_k: the most findings to return.
    """
    if not is_pathology:
        return []
    ranked: list[tuple[float, int, RankedFinding]] = []
    for order, (name, group, threshold, sources) in enumerate(rules):
        values = [features[s] for s in sources if s in features and not math.isnan(features[s])]
        if not values:
            continue
        score = max(values)
        if score >= threshold:
            ranked.append((-score, order, RankedFinding(name, group, float(score), threshold)))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [finding for _, _, finding in ranked[:top_k]]
