"""Pack manifest parts: feature names are slugs, the feature list is pinned by an order-sensitive hash."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from medskills.triage.pack_manifest import FeatureListSpec, feature_list_sha256, feature_slug


@pytest.mark.parametrize(("name", "slug"), [
    ("Ground-glass opacity", "ground_glass_opacity"),
    ("Postoperative changes (lobectomy or pneumonectomy)", "postoperative_changes_lobectomy_or_pneumonectomy"),
    ("  Rib fracture!  ", "rib_fracture"),
])
def test_display_names_become_lower_case_slugs(name: str, slug: str) -> None:
    assert feature_slug(name) == slug


def test_the_feature_hash_is_of_the_ordered_names_joined_by_newlines() -> None:
    assert feature_list_sha256(["a", "b"]) == hashlib.sha256(b"a\nb").hexdigest()
    assert feature_list_sha256(["a", "b"]) != feature_list_sha256(["b", "a"])


def test_a_feature_list_whose_hash_matches_is_accepted() -> None:
    spec = FeatureListSpec(names=("qct_laa_950", "ctclip_pneumonia"),
                           sha256=feature_list_sha256(["qct_laa_950", "ctclip_pneumonia"]))
    assert spec.names[0] == "qct_laa_950"


def test_a_reordered_list_or_a_duplicate_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="edited without updating its hash"):
        FeatureListSpec(names=("b", "a"), sha256=feature_list_sha256(["a", "b"]))
    with pytest.raises(ValidationError, match="duplicates"):
        FeatureListSpec(names=("a", "a"), sha256=feature_list_sha256(["a", "a"]))
