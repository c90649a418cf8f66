"""The whole of ``run_setup``: clone, download, extract, exports; idempotent; refuses early when it must."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from medskills.core.assets import AssetFile, AssetKind, SkillAssets, SkillVersion, UpstreamRepo
from medskills.core.skills import SkillId
from medskills.core.errors import EnvironmentProblem, UsageError
from medskills.core.settings import Settings
from medskills.setup.install import run_setup
from medskills.setup.models import CloneAction, FileAction, SetupRequest

pytestmark = [pytest.mark.network_local, pytest.mark.timeout(60)]

REVISION = "cd" * 20
WEIGHTS = b"weights" * 5000
CONDITIONS = b'{"organ_size": []}'


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("masks/set_a/mask_001.nii.gz", b"m1" * 100)
        bundle.writestr("masks/set_b/mask_002.nii.gz", b"m2" * 100)
    return buffer.getvalue()


def _assets(url: str, commit: str, *, hub, bundle_subdir: str | None = None, weight_mb: float = 0.04) -> SkillAssets:
    weight_pin = hub.add("org/weights", REVISION, "models/net.pt", WEIGHTS)
    hub.add("org/weights", REVISION, "datasets/conditions.json", CONDITIONS)
    hub.add("org/weights", REVISION, "datasets/masks.zip", _zip_bytes())

    def asset(kind: AssetKind, filename: str, **extra: object) -> AssetFile:
        fields = {"size_mb_approx": 0.01, "target": filename, **extra}
        return AssetFile(kind=kind, repo_id="org/weights", revision=REVISION, filename=filename, licence="L", **fields)

    files = [asset(AssetKind.WEIGHT, "models/net.pt", sha256=weight_pin, size_mb_approx=weight_mb)]
    if bundle_subdir is None:
        files += [asset(AssetKind.DATASET, "datasets/conditions.json"),
                  asset(AssetKind.DATASET, "datasets/masks.zip", extract_dir="datasets/masks",
                        unpacked_size_mb_approx=0.01)]
    return SkillAssets(
        skill=SkillId.SYNTH_CT if bundle_subdir is None else SkillId.SEGMENT_CTMR,
        upstream=UpstreamRepo(name="Upstream", url=url, root_env_var="NV_GENERATE_ROOT" if bundle_subdir is None
                              else "NV_SEGMENT_CTMR_ROOT", bundle_subdir=bundle_subdir, licence="Apache-2.0"),
        default_version="v1",
        versions={"v1": SkillVersion(version="v1", upstream_commit=commit, needs_cuda=True, files=files)},
    )


def _settings(tmp_path: Path) -> Settings:
    return Settings(weight_hash_cache=tmp_path / "cache" / "sha.json")


def _plenty(_: Path) -> int:
    return 10**12


def test_setup_clones_downloads_extracts_and_prints_exports(bare_upstream, fake_hub, tmp_path: Path) -> None:
    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub)
    request = SetupRequest(skill=SkillId.SYNTH_CT, root=tmp_path / "upstreams")
    report = run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=_plenty)
    clone = tmp_path / "upstreams" / "Upstream"
    assert report.clone.action == CloneAction.CLONED and report.runtime_root == clone == report.data_root
    assert (clone / "models" / "net.pt").read_bytes() == WEIGHTS
    assert (clone / "datasets" / "conditions.json").read_bytes() == CONDITIONS
    assert (clone / "datasets" / "masks" / "set_b" / "mask_002.nii.gz").is_file()
    assert [o.action for o in report.files].count(FileAction.EXTRACTED) == 1
    assert report.exports == [f"export NV_GENERATE_ROOT={clone}", f"export MONAI_DATA_DIRECTORY={clone}",
                              "export HF_HUB_OFFLINE=1"]
    assert report.downloaded_bytes > 0


def test_second_setup_downloads_nothing_and_says_so(bare_upstream, fake_hub, tmp_path: Path, caplog) -> None:
    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub)
    request = SetupRequest(skill=SkillId.SYNTH_CT, root=tmp_path / "upstreams")
    run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=_plenty)
    seen = len(fake_hub.requests)
    caplog.set_level("INFO", logger="medskills.setup.install")
    again = run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=_plenty)
    assert len(fake_hub.requests) == seen
    assert again.downloaded_bytes == 0 and again.clone.action == CloneAction.VERIFIED
    assert {o.action for o in again.files} == {FileAction.ALREADY_PRESENT, FileAction.ALREADY_EXTRACTED}
    assert "nothing downloaded" in caplog.text


def test_bundle_weights_go_under_the_bundle_folder(bare_upstream, fake_hub, tmp_path: Path) -> None:
    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub, bundle_subdir="Bundle")
    request = SetupRequest(skill=SkillId.SEGMENT_CTMR, root=tmp_path / "upstreams")
    report = run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=_plenty)
    bundle = tmp_path / "upstreams" / "Upstream" / "Bundle"
    assert (bundle / "models" / "net.pt").is_file()
    assert report.exports == [f"export NV_SEGMENT_CTMR_ROOT={bundle}", "export HF_HUB_OFFLINE=1"]


def test_full_disk_stops_setup_before_cloning(bare_upstream, fake_hub, tmp_path: Path) -> None:
    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub)
    request = SetupRequest(skill=SkillId.SYNTH_CT, root=tmp_path / "upstreams")
    with pytest.raises(EnvironmentProblem, match="Not enough free disk space"):
        run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=lambda _: 10_000)
    assert not (tmp_path / "upstreams").exists()
    assert fake_hub.requests == []


def test_offline_mode_is_refused_while_files_are_missing(bare_upstream, fake_hub, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub)
    with pytest.raises(EnvironmentProblem, match="env -u HF_HUB_OFFLINE"):
        run_setup(SetupRequest(skill=SkillId.SYNTH_CT, root=tmp_path / "up"), settings=_settings(tmp_path),
                  assets=assets, free_bytes=_plenty)


def test_large_download_needs_yes(bare_upstream, fake_hub, tmp_path: Path) -> None:
    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub, weight_mb=6000)
    request = SetupRequest(skill=SkillId.SYNTH_CT, root=tmp_path / "upstreams")
    with pytest.raises(UsageError, match="--yes"):
        run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=_plenty)
    assert fake_hub.gets() == []


def test_cli_setup_prints_exports_and_one_json_report(bare_upstream, fake_hub, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from medskills.cli import app
    from medskills.setup import install

    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub)
    monkeypatch.setattr(install, "skill_assets", lambda skill: assets)
    monkeypatch.setenv("MEDSKILLS_WEIGHT_HASH_CACHE", str(tmp_path / "cache.json"))
    root = tmp_path / "my upstreams"
    first = CliRunner().invoke(app, ["setup", "synth-ct", "--root", str(root)])
    assert first.exit_code == 0, first.output
    clone = root / "Upstream"
    assert f"export NV_GENERATE_ROOT='{clone}'" in first.stderr
    second = CliRunner().invoke(app, ["setup", "synth-ct", "--root", str(root)])
    report = json.loads(second.stdout)
    assert second.exit_code == 0 and report["downloaded_bytes"] == 0
    assert "Nothing downloaded" in second.stderr


OLD_CT_PIN = "61c4ec709b84cad468852243c48e250bec732074"  # the CT pin before both skills shared one clone


def _packaged_pin_entry(skill: SkillId, bare_upstream, hub) -> SkillAssets:
    """The skill's packaged entry with its pin mapped onto the local repository (older pin -> older commit)."""
    from medskills.core.assets import skill_assets

    packaged = skill_assets(skill)
    local = {OLD_CT_PIN: bare_upstream.old_commit, "da438fec6484cdb6f421f8c7051d954ebefff730": bare_upstream.pinned_commit}
    fake = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=hub)
    versions = {name: version.model_copy(update={"upstream_commit": local[version.upstream_commit],
                                                  "files": fake.versions["v1"].files[:1]})
                for name, version in packaged.versions.items()}
    upstream = packaged.upstream.model_copy(update={"url": bare_upstream.url})
    return packaged.model_copy(update={"upstream": upstream, "versions": versions})


def test_setup_synth_ct_then_synth_mr_brain_shares_one_clone(bare_upstream, fake_hub, tmp_path: Path) -> None:
    root = tmp_path / "upstreams"
    first = run_setup(SetupRequest(skill=SkillId.SYNTH_CT, root=root), settings=_settings(tmp_path),
                      assets=_packaged_pin_entry(SkillId.SYNTH_CT, bare_upstream, fake_hub), free_bytes=_plenty)
    second = run_setup(SetupRequest(skill=SkillId.SYNTH_MR_BRAIN, root=root), settings=_settings(tmp_path),
                       assets=_packaged_pin_entry(SkillId.SYNTH_MR_BRAIN, bare_upstream, fake_hub), free_bytes=_plenty)
    assert first.clone.action == CloneAction.CLONED and second.clone.action == CloneAction.VERIFIED
    assert first.runtime_root == second.runtime_root == root / "NV-Generate-CTMR"
    assert second.clone.head_commit == bare_upstream.pinned_commit


def test_extracted_masks_without_the_zip_are_downloaded_again(bare_upstream, fake_hub, tmp_path: Path) -> None:
    assets = _assets(bare_upstream.url, bare_upstream.pinned_commit, hub=fake_hub)
    request = SetupRequest(skill=SkillId.SYNTH_CT, root=tmp_path / "upstreams")
    run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=_plenty)
    archive = tmp_path / "upstreams" / "Upstream" / "datasets" / "masks.zip"
    archive.unlink()
    again = run_setup(request, settings=_settings(tmp_path), assets=assets, free_bytes=_plenty)
    assert archive.is_file() and FileAction.DOWNLOADED in {o.action for o in again.files}
