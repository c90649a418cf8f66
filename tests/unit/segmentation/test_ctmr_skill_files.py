"""The segmentation skill's manifest and SKILL.md agree with the code and the asset pins."""

from __future__ import annotations

from pathlib import Path

import yaml

from medskills.core.assets import AssetKind, assets_for, resolve_version
from medskills.core.skills import SkillId
from medskills.segmentation.models import SegmentationRunRecord

SKILL_DIR = Path(__file__).resolve().parents[3] / "skills" / "nv-segment-ctmr"


def _schema_has_path(schema: dict, path: str) -> bool:
    node = schema
    for part in path.split("."):
        if part not in node.get("properties", {}):
            return False
        node = node["properties"][part]
        refs = [node.get("$ref")] + [item.get("$ref") for item in node.get("anyOf", [])]
        ref = next((r for r in refs if r), None)
        if ref:
            node = schema["$defs"][ref.split("/")[-1]]
    return True


def test_manifest_sanity_paths_exist_in_the_record_schema() -> None:
    manifest = yaml.safe_load((SKILL_DIR / "skill_manifest.yaml").read_text())
    schema = SegmentationRunRecord.model_json_schema()
    paths = [check["path"] for check in manifest["validation"]["sanity_checks"]]
    paths.append(manifest["validation"]["expected_runtime_seconds"]["inference_path"])
    assert [p for p in paths if not _schema_has_path(schema, p)] == []


def test_manifest_pins_match_the_asset_manifest() -> None:
    manifest = yaml.safe_load((SKILL_DIR / "skill_manifest.yaml").read_text())
    github = next(ref for ref in manifest["upstream_refs"] if ref["kind"] == "github_repo")
    hub = next(ref for ref in manifest["upstream_refs"] if ref["kind"] == "huggingface_repo")
    weight = assets_for(SkillId.SEGMENT_CTMR, kind=AssetKind.WEIGHT)[0]
    assert github["git_commit"] == resolve_version(SkillId.SEGMENT_CTMR).upstream_commit
    assert (hub["repo_id"], hub["revision"]) == (weight.repo_id, weight.revision)


def test_manifest_entrypoint_exists_and_skill_md_documents_the_seed_command() -> None:
    manifest = yaml.safe_load((SKILL_DIR / "skill_manifest.yaml").read_text())
    assert (SKILL_DIR.parents[1] / manifest["runtime"]["entrypoint"]).is_file()
    text = (SKILL_DIR / "SKILL.md").read_text()
    assert text.startswith("---\nname: nv-segment-ctmr\n")
    for flag in ("--modality", "--output-dir", "--label-prompts", "--ground-truth", "--device", "--yes",
                 "--preflight-only", "--output-type", "medskills setup segment-ctmr", "MEDSKILLS_ALLOW_NO_GPU"):
        assert flag in text, flag
