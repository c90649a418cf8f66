"""The packaged asset manifest: pins, paths, version resolution."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medskills.core.assets import (
    AssetKind,
    assets_for,
    dataset_paths,
    load_asset_manifest,
    resolve_version,
    runtime_root_for_clone,
    sha256_pins,
    skill_assets,
    weight_paths,
)
from medskills.core.skills import SkillId
from medskills.core.errors import UsageError
from standin_upstream.snapshot import nv_generate_snapshot, upstream_download_files  # noqa: F401

HEX40 = re.compile(r"^[0-9a-f]{40}$")


def test_manifest_covers_every_skill_with_full_commit_pins() -> None:
    manifest = load_asset_manifest()
    assert set(manifest.skills) == set(SkillId)
    for entry in manifest.skills.values():
        assert entry.default_version in entry.versions
        for version in entry.versions.values():
            assert HEX40.match(version.upstream_commit)
            assert version.files
            assert all(HEX40.match(f.revision) for f in version.files)


def test_both_synthesis_skills_share_one_pin_because_they_share_one_clone() -> None:
    pins = {resolve_version(skill, version).upstream_commit
            for skill in ("synth-ct", "synth-mr-brain") for version in skill_assets(skill).versions}
    assert pins == {"da438fec6484cdb6f421f8c7051d954ebefff730"}


def test_generate_pins_match_the_spec() -> None:
    assert resolve_version("synth-mr-brain").upstream_commit.startswith("da438fec")
    assert resolve_version("segment-ctmr").upstream_commit.startswith("c46f9946")
    revisions = {f.repo_id: f.revision for f in assets_for("synth-mr-brain")}
    assert revisions["nvidia/NV-Generate-CT"].startswith("75ac080f")
    assert revisions["nvidia/NV-Generate-MR-Brain"].startswith("ef9759bf")
    assert assets_for("segment-ctmr")[0].revision.startswith("4fb8b4a6")


def test_weight_paths_are_under_the_runtime_root(tmp_path: Path) -> None:
    paths = weight_paths("synth-ct", "rflow-ct", tmp_path)
    assert tmp_path / "models" / "diff_unet_3d_rflow-ct.pt" in paths
    assert all(p.parent == tmp_path / "models" for p in paths)
    assert weight_paths("segment-ctmr", None, tmp_path) == [tmp_path / "models" / "model.pt"]


def test_ddpm_version_swaps_the_unet_and_candidate_list(tmp_path: Path) -> None:
    names = {p.name for p in weight_paths("synth-ct", "ddpm-ct", tmp_path)}
    assert "diff_unet_3d_ddpm-ct.pt" in names and "diff_unet_3d_rflow-ct.pt" not in names
    datasets = {p.name for p in dataset_paths("synth-ct", "ddpm-ct", tmp_path)}
    assert "candidate_masks_flexible_size_and_spacing_3000.json" in datasets


def test_dataset_paths_name_the_extracted_mask_folder_not_the_zip(tmp_path: Path) -> None:
    paths = dataset_paths("synth-ct", None, tmp_path)
    assert tmp_path / "datasets" / "all_masks_flexible_size_and_spacing_4000" in paths
    assert not any(p.suffix == ".zip" for p in paths)
    archives = [f for f in assets_for("synth-ct", kind=AssetKind.DATASET) if f.is_archive]
    assert len(archives) == 1 and archives[0].target.endswith(".zip")
    assert dataset_paths("synth-mr-brain", None, tmp_path) == []


def test_sha256_pins_are_keyed_by_file_name() -> None:
    pins = sha256_pins("synth-mr-brain")
    assert pins["autoencoder_v1.pt"].startswith("1f8a7a05")
    assert pins["diff_unet_3d_rflow-mr-brain_v1.pt"].startswith("90c4a015")
    assert sha256_pins("segment-ctmr") == {}


def test_segment_runtime_root_is_the_bundle_folder(tmp_path: Path) -> None:
    assert runtime_root_for_clone("segment-ctmr", tmp_path) == tmp_path / "NV-Segment-CTMR"
    assert runtime_root_for_clone("synth-ct", tmp_path) == tmp_path
    assert skill_assets("segment-ctmr").upstream.root_env_var == "NV_SEGMENT_CTMR_ROOT"


def test_unknown_skill_suggests_the_closest_name() -> None:
    with pytest.raises(UsageError, match="synth-ct"):
        skill_assets("synth-cct")


def test_unknown_version_lists_the_choices() -> None:
    with pytest.raises(UsageError, match="rflow-ct, ddpm-ct"):
        resolve_version("synth-ct", "rflow-mr")



def test_packaged_files_are_exactly_what_upstream_download_model_data_fetches(nv_generate_snapshot: Path) -> None:
    """Each version's weights and datasets equal upstream's own list with ``model_only=False``.

    ``scripts.inference`` always calls ``download_model_data(version, root_dir)`` (model_only False):
    ``models/`` paths land in the working directory (our runtime root), ``datasets/`` paths under
    ``root_dir`` (MONAI_DATA_DIRECTORY, our data root). The real function runs with its network step
    replaced by a recorder.
    """
    for skill, version in (("synth-ct", "rflow-ct"), ("synth-ct", "ddpm-ct"), ("synth-mr-brain", "rflow-mr-brain")):
        upstream_files = {(item["repo_id"], item["filename"], item["path"])
                          for item in upstream_download_files(version, root_dir="/DATA_ROOT")}
        ours = {(f.repo_id, f.filename, f.target if f.kind == AssetKind.WEIGHT else f"/DATA_ROOT/{f.target}")
                for f in assets_for(skill, version)}
        assert ours == upstream_files, (version, ours ^ upstream_files)
        model_only = {item["path"] for item in upstream_download_files(version, model_only=True)}
        assert model_only == {f.target for f in assets_for(skill, version, kind=AssetKind.WEIGHT)}
