"""The top_pathologies rule and the fixed vocabulary."""

from __future__ import annotations

import math

from medskills.triage.pathologies import (
    CTCLIP_PROMPT_NAMES,
    PATHOLOGY_GROUPS,
    QCT_FINDING_NAMES,
    UNGROUPED,
    group_of,
    rank_findings,
)

RULES = [
    ("Pneumothorax", "pleural", 0.5, ("ctclip_pneumothorax", "supervised_pneumothorax")),
    ("Atelectasis", "lung_parenchyma", 0.6, ("ctclip_atelectasis",)),
    ("Cardiomegaly", "cardiac", 0.3, ("fvlm_cardiomegaly",)),
    ("Emphysema", "lung_parenchyma", 0.2, ("ctclip_emphysema",)),
]


def test_vocabulary_has_55_prompts_53_grouped_and_the_qct_findings() -> None:
    grouped = [name for names in PATHOLOGY_GROUPS.values() for name in names]
    assert len(CTCLIP_PROMPT_NAMES) == 55 and len(set(CTCLIP_PROMPT_NAMES)) == 55
    assert len(grouped) == 54 and set(grouped) <= set(CTCLIP_PROMPT_NAMES) | set(QCT_FINDING_NAMES)
    assert set(QCT_FINDING_NAMES) <= set(grouped) and group_of("Medical material") == "postop"
    assert group_of("Pathological finding") == UNGROUPED
    assert group_of("Pneumothorax") == "pleural"


def test_findings_rank_by_max_available_score_above_their_own_threshold() -> None:
    features = {
        "ctclip_pneumothorax": 0.4,
        "supervised_pneumothorax": 0.9,
        "ctclip_atelectasis": 0.55,
        "fvlm_cardiomegaly": math.nan,
        "ctclip_emphysema": 0.7,
    }
    ranked = rank_findings(features, RULES, is_pathology=True, top_k=3)
    assert [f.name for f in ranked] == ["Pneumothorax", "Emphysema"]
    assert ranked[0].score == 0.9 and ranked[0].group == "pleural"


def test_findings_are_empty_when_no_pathology() -> None:
    assert rank_findings({"ctclip_emphysema": 0.99}, RULES, is_pathology=False, top_k=3) == []


def test_findings_respect_top_k_and_vocabulary_order_on_ties() -> None:
    features = {"ctclip_pneumothorax": 0.8, "ctclip_atelectasis": 0.8, "ctclip_emphysema": 0.8}
    assert [f.name for f in rank_findings(features, RULES, is_pathology=True, top_k=2)] == [
        "Pneumothorax",
        "Atelectasis",
    ]
