"""Doctor against a real clone: a fully set-up skill can run; a clone older than its pin cannot."""

from __future__ import annotations

from pathlib import Path

from medskills.core.assets import (
    AssetFile,
    AssetKind,
    AssetManifest,
    SkillAssets,
    SkillVersion,
    UpstreamRepo,
)
from medskills.core.skills import SkillId
from medskills.core.io import sha256_file
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.setup.clone import ensure_clone
from medskills.setup.doctor import run_doctor
from medskills.setup.models import RowStatus

GPU = DeviceInfo(cuda_available=True, device_name="NVIDIA L40S", total_memory_gb=48.0, torch_version="2.13.0")


def _manifest(url: str, commit: str, weight: Path) -> AssetManifest:
    files = [
        AssetFile(kind=AssetKind.WEIGHT, repo_id="org/w", revision="ab" * 20, filename="models/net.pt",
                  target="models/net.pt", size_mb_approx=1, sha256=sha256_file(weight), licence="L"),
        AssetFile(kind=AssetKind.DATASET, repo_id="org/w", revision="ab" * 20, filename="datasets/masks.zip",
                  target="datasets/masks.zip", extract_dir="datasets/masks", size_mb_approx=1, licence="L"),
    ]
    entry = SkillAssets(
        skill=SkillId.SYNTH_CT, default_version="v1",
        upstream=UpstreamRepo(name="Upstream", url=url, root_env_var="NV_GENERATE_ROOT", licence="L"),
        versions={"v1": SkillVersion(version="v1", upstream_commit=commit, needs_cuda=True, files=files)},
    )
    return AssetManifest(schema_version="1.0", skills={SkillId.SYNTH_CT: entry})


def _prepared_clone(bare_upstream, tmp_path: Path) -> Path:
    clone = tmp_path / "Upstream"
    ensure_clone(clone, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    (clone / "models").mkdir()
    (clone / "models" / "net.pt").write_bytes(b"weights")
    (clone / "datasets" / "masks").mkdir(parents=True)
    (clone / "datasets" / "masks.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # upstream checks the zip itself
    return clone


def test_fully_set_up_skill_can_run(bare_upstream, tmp_path: Path) -> None:
    clone = _prepared_clone(bare_upstream, tmp_path)
    manifest = _manifest(bare_upstream.url, bare_upstream.pinned_commit, clone / "models" / "net.pt")
    settings = Settings(nv_generate_root=clone, weight_hash_cache=tmp_path / "cache.json")
    report = run_doctor(settings=settings, skill=SkillId.SYNTH_CT, device_probe=lambda: GPU,
                        free_bytes=lambda _: 10**12, manifest=manifest)
    failing = [r for r in report.rows if r.status == RowStatus.FAIL]
    assert failing == [] and report.can_run == {SkillId.SYNTH_CT: True} and report.exit_code == 0
    weights = next(r for r in report.rows if r.name == "weights")
    assert weights.detail == "1/1 present, 1 match a sha256 pin"


def test_clone_older_than_the_pin_blocks_the_skill(bare_upstream, tmp_path: Path) -> None:
    clone = _prepared_clone(bare_upstream, tmp_path)
    newer = bare_upstream.add_commit("later.txt")
    manifest = _manifest(bare_upstream.url, newer, clone / "models" / "net.pt")
    settings = Settings(nv_generate_root=clone, weight_hash_cache=tmp_path / "cache.json")
    report = run_doctor(settings=settings, skill=SkillId.SYNTH_CT, device_probe=lambda: GPU,
                        free_bytes=lambda _: 10**12, manifest=manifest)
    upstream = next(r for r in report.rows if r.name == "upstream")
    assert upstream.status == RowStatus.FAIL and "fetch origin" in (upstream.fix or "")
    assert report.exit_code == 1


def test_dirty_clone_is_a_warning_not_a_block(bare_upstream, tmp_path: Path) -> None:
    clone = _prepared_clone(bare_upstream, tmp_path)
    (clone / "scripts.py").write_text("edited\n", encoding="utf-8")
    manifest = _manifest(bare_upstream.url, bare_upstream.pinned_commit, clone / "models" / "net.pt")
    settings = Settings(nv_generate_root=clone, weight_hash_cache=tmp_path / "cache.json")
    report = run_doctor(settings=settings, skill=SkillId.SYNTH_CT, device_probe=lambda: GPU,
                        free_bytes=lambda _: 10**12, manifest=manifest)
    upstream = next(r for r in report.rows if r.name == "upstream")
    assert upstream.status == RowStatus.WARN and "dirty=True" in upstream.detail
    assert report.exit_code == 0
