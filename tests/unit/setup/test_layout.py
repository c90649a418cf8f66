"""Layout: where files land, the export lines, the size estimate and the mask-archive extraction."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from medskills.core.assets import AssetKind, assets_for, skill_assets
from medskills.core.errors import EnvironmentProblem
from medskills.setup.download import partial_path
from medskills.setup.layout import SetupLayout, extract_archive, missing_bytes_estimate
from medskills.setup.models import FileAction


def _layout(skill: str, root: Path, data_root: Path | None = None) -> SetupLayout:
    entry = skill_assets(skill)
    return SetupLayout.plan(entry, entry.version(), root=root, data_root=data_root)


def _archive_asset():
    return next(f for f in assets_for("synth-ct", kind=AssetKind.DATASET) if f.is_archive)


def _plenty(_: Path) -> int:
    return 10**12


def test_generate_layout_puts_models_in_the_clone_and_datasets_in_the_data_root(tmp_path: Path) -> None:
    layout = _layout("synth-ct", tmp_path / "up", data_root=tmp_path / "data")
    archive = _archive_asset()
    assert layout.runtime_root == tmp_path / "up" / "NV-Generate-CTMR"
    weight = assets_for("synth-ct", kind=AssetKind.WEIGHT)[0]
    assert layout.destination(weight) == layout.runtime_root / "models" / "autoencoder_v1.pt"
    assert layout.destination(archive) == tmp_path / "data" / "datasets" / "all_masks_flexible_size_and_spacing_4000.zip"
    assert layout.runtime_path(archive) == tmp_path / "data" / "datasets" / "all_masks_flexible_size_and_spacing_4000"


def test_exports_quote_paths_and_always_set_offline_mode(tmp_path: Path) -> None:
    layout = _layout("synth-ct", tmp_path / "my upstreams")
    root = tmp_path / "my upstreams" / "NV-Generate-CTMR"
    assert layout.exports() == [f"export NV_GENERATE_ROOT='{root}'", f"export MONAI_DATA_DIRECTORY='{root}'",
                                "export HF_HUB_OFFLINE=1"]
    segment = _layout("segment-ctmr", tmp_path / "up")
    assert segment.exports()[0] == f"export NV_SEGMENT_CTMR_ROOT={tmp_path}/up/NV-Segment-CTMR/NV-Segment-CTMR"


def test_size_estimate_counts_unpacking_and_subtracts_partial_bytes(tmp_path: Path) -> None:
    layout = _layout("synth-mr-brain", tmp_path)
    full = missing_bytes_estimate(layout)
    assert full == pytest.approx((84 + 2900) * 1e6)
    weight = assets_for("synth-mr-brain")[1]
    partial = partial_path(layout.destination(weight))
    partial.parent.mkdir(parents=True)
    with partial.open("wb") as handle:
        handle.truncate(1_000_000_000)
    assert missing_bytes_estimate(layout) == pytest.approx(full - 1e9)
    assert missing_bytes_estimate(_layout("synth-ct", tmp_path / "ct")) > 25e9  # zip plus its unpacked copy


def test_archive_root_folder_becomes_the_extract_dir(tmp_path: Path) -> None:
    archive = tmp_path / "datasets" / "masks.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("all_masks_flexible_size_and_spacing_4000/src/m.nii.gz", b"x" * 10)
    target = tmp_path / "datasets" / "all_masks_flexible_size_and_spacing_4000"
    outcome = extract_archive(_archive_asset(), archive, target, free_bytes=_plenty)
    assert outcome.action == FileAction.EXTRACTED and (target / "src" / "m.nii.gz").is_file()
    assert sorted(p.name for p in archive.parent.iterdir()) == ["all_masks_flexible_size_and_spacing_4000", "masks.zip"]
    again = extract_archive(_archive_asset(), archive, target, free_bytes=_plenty)
    assert again.action == FileAction.ALREADY_EXTRACTED


def test_archive_without_a_root_folder_is_extracted_into_the_extract_dir(tmp_path: Path) -> None:
    archive = tmp_path / "flat.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("src/m.nii.gz", b"x")
    target = tmp_path / "out"
    extract_archive(_archive_asset(), archive, target, free_bytes=_plenty)
    assert (target / "src" / "m.nii.gz").is_file()


def test_unpacking_checks_free_space_first(tmp_path: Path) -> None:
    archive = tmp_path / "masks.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("m.bin", bytes(2_000_000))
    with pytest.raises(EnvironmentProblem, match="unpacking masks.zip"):
        extract_archive(_archive_asset(), archive, tmp_path / "out", free_bytes=lambda _: 1_000_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["masks.zip"]


def test_archive_members_escaping_the_folder_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../escape.txt", b"x")
    with pytest.raises(EnvironmentProblem, match="outside its folder"):
        extract_archive(_archive_asset(), archive, tmp_path / "out", free_bytes=_plenty)
    assert not (tmp_path.parent / "escape.txt").exists()
