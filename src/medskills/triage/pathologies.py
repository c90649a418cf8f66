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

PATHOLOGY_GROUPS: Mapping[str, tuple[str, ...]] = {
    "lung_parenchyma": (
        "Pulmonary nodule",
        "Lymphangitic carcinomatosis",
        "Pneumonia",
        "Tuberculosis",
        "Pulmonary emphysema",
        "Pulmonary fibrosis",
        "Pneumoconiosis",
        "Pulmonary edema",
        "Atelectasis",
        "Consolidation",
        "Ground-glass opacity",
        "Crazy-paving pattern",
        "Tree-in-bud pattern",
        "Mosaic attenuation",
        "Cavitation",
        "Radiation pneumonitis",
    ),
    "airways": ("Bronchiectasis", "Chronic bronchitis", "Bronchial obstruction"),
    "vascular": (
        "Pulmonary embolism",
        "Chronic thromboembolic disease",
        "Main pulmonary artery enlargement",
        "Pulmonary arteriovenous malformation",
        "Aortic dissection",
        "Coronary artery calcification",
    ),
    "pleural": (
        "Pleural effusion",
        "Pleural thickening",
        "Pleural plaques",
        "Pneumothorax",
        "Hemothorax",
        "Hydropneumothorax",
    ),
    "mediastinum": (
        "Mediastinal or hilar lymphadenopathy",
        "Sarcoidosis",
        "Thymoma",
        "Lymphoma",
        "Mediastinal cyst",
        "Retrosternal goiter",
        "Pneumomediastinum",
    ),
    "cardiac": ("Pericardial effusion", "Cardiac chamber enlargement"),
    "chest_wall": (
        "Rib fracture",
        "Chest wall mass or invasion",
        "Subcutaneous emphysema",
        "Diaphragmatic hernia",
        "Hiatal hernia",
        "Pectus excavatum or carinatum",
    ),
    "bone_spine": (
        "Vertebral compression fracture",
        "Degenerative spine changes",
        "Scoliosis",
        "Bone metastases",
    ),
    "postop": ("Postoperative changes (lobectomy or pneumonectomy)", "Medical material"),
    "incidentalomas": ("Thyroid nodule", "Breast mass"),
}

CTCLIP_PROMPT_NAMES: tuple[str, ...] = (
    "Pathological finding",
    "Pulmonary nodule",
    "Lymphangitic carcinomatosis",
    "Pneumonia",
    "Tuberculosis",
    "Bronchiectasis",
    "Chronic bronchitis",
    "Bronchial obstruction",
    "Pulmonary emphysema",
    "Pulmonary fibrosis",
    "Pneumoconiosis",
    "Pulmonary edema",
    "Atelectasis",
    "Pleural effusion",
    "Pleural thickening",
    "Pleural plaques",
    "Pneumothorax",
    "Hemothorax",
    "Consolidation",
    "Ground-glass opacity",
    "Crazy-paving pattern",
    "Tree-in-bud pattern",
    "Mosaic attenuation",
    "Cavitation",
    "Pulmonary embolism",
    "Chronic thromboembolic disease",
    "Main pulmonary artery enlargement",
    "Pulmonary arteriovenous malformation",
    "Mediastinal or hilar lymphadenopathy",
    "Sarcoidosis",
    "Thymoma",
    "Lymphoma",
    "Mediastinal cyst",
    "Retrosternal goiter",
    "Pericardial effusion",
    "Cardiac chamber enlargement",
    "Coronary artery calcification",
    "Aortic dissection",
    "Rib fracture",
    "Vertebral compression fracture",
    "Bone metastases",
    "Chest wall mass or invasion",
    "Subcutaneous emphysema",
    "Diaphragmatic hernia",
    "Hiatal hernia",
    "Pneumomediastinum",
    "Hydropneumothorax",
    "Radiation pneumonitis",
    "Postoperative changes (lobectomy or pneumonectomy)",
    "Scoliosis",
    "Pectus excavatum or carinatum",
    "Degenerative spine changes",
    "Thyroid nodule",
    "Breast mass",
    "Other pathology",
)


QCT_FINDING_NAMES: tuple[str, ...] = ("Pulmonary emphysema", "Medical material")
"""Findings of the quantitative-CT member (``medskills.triage.models.qct``); "Medical material" is a
CT-RATE class (Hamamci et al., arXiv:2403.17834) that CT-CLIP's prompts do not hold."""


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
