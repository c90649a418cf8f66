"""The CT skill's manifest, fixtures and SKILL.md agree with the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from medskills.core.assets import resolve_version, skill_assets
from medskills.core.skills import SkillId
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.nv_generate.anatomy import load_anatomy_table
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.paired_ct.record import CTSynthesisRecord
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion
from medskills.synthesis.paired_ct.request import load_overrides

SKILL_DIR = Path(__file__).resolve().parents[4] / "skills" / "nv-generate-ct-rflow"
PAIRED_FIXTURES = ["default_config_infer.json", "chest_lung_lobes.json", "chest_lung_tumor_controllable.json",
                   "abdomen_liver_spleen.json", "abdomen_hepatic_tumor.json", "head_brain.json", "pelvis.json"]


def _schema_has_path(schema: dict, path: str) -> bool:
    node = schema
    for part in path.split("."):
        properties = node.get("properties", {})
        if part not in properties:
            return False
        node = properties[part]
        refs = [node.get("$ref")] + [item.get("$ref") for item in node.get("anyOf", [])]
        ref = next((r for r in refs if r), None)
        if ref:
            node = schema["$defs"][ref.split("/")[-1]]
    return True


def test_manifest_sanity_paths_exist_in_the_record_schema():
    manifest = yaml.safe_load((SKILL_DIR / "skill_manifest.yaml").read_text())
    schema = CTSynthesisRecord.model_json_schema()
    paths = [check["path"] for check in manifest["validation"]["sanity_checks"]]
    paths.append(manifest["validation"]["expected_runtime_seconds"]["inference_path"])
    assert [p for p in paths if not _schema_has_path(schema, p)] == []


def test_manifest_pins_match_the_asset_manifest():
    manifest = yaml.safe_load((SKILL_DIR / "skill_manifest.yaml").read_text())
    github = next(ref for ref in manifest["upstream_refs"] if ref["kind"] == "github_repo")
    assert github["git_commit"] == resolve_version(SkillId.SYNTH_CT, "rflow-ct").upstream_commit
    assert github["repo_url"].rstrip("/").removesuffix(".git") == skill_assets(SkillId.SYNTH_CT).upstream.url.rstrip("/").removesuffix(".git")
    assert (SKILL_DIR / manifest["validation"]["reproducibility"]["fixture"].split("nv-generate-ct-rflow/")[1]).is_file()


@pytest.mark.parametrize("name", PAIRED_FIXTURES)
def test_every_paired_fixture_is_a_valid_request(name):
    overrides = load_overrides(SKILL_DIR / "fixtures" / name)
    collector = PreflightCollector()
    settings = check_inference_config(collector, {**DEFAULT_CONFIG_INFER, **overrides}, table=load_anatomy_table(),
                                      version=CTVersion.RFLOW_CT)
    assert settings is not None, collector.report().errors
    assert settings.output_size == (256, 256, 256) and settings.num_inference_steps == 30


def test_controllable_fixture_uses_a_lung_tumor_of_size_half():
    fixture = json.loads((SKILL_DIR / "fixtures" / "chest_lung_tumor_controllable.json").read_text())
    assert fixture["controllable_anatomy_size"] == [["lung tumor", 0.5]]


def test_skill_md_has_frontmatter_and_the_required_sections():
    text = (SKILL_DIR / "SKILL.md").read_text()
    assert text.startswith("---\nname: nv-generate-ct-rflow\n")
    for section in ("Purpose", "Instructions", "Available scripts", "Prerequisites", "Limitations", "Troubleshooting"):
        assert f"\n## {section}\n" in text
