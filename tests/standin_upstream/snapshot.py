"""The real NV-Generate-CTMR snapshot in ``../shared/upstreams`` and writable temporary copies of it.

Tests read the unmodified upstream code and configs from there (never from the project). A copy gets
fake weight and dataset files: the weights and datasets the packaged asset list names, which
``tests/unit/core/test_assets.py`` proves equal to upstream's own ``download_model_data`` lists.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from medskills.core.assets import AssetKind, SkillId, assets_for, skill_assets

__all__ = ["SNAPSHOT_COMMIT", "copy_snapshot", "nv_generate_snapshot", "snapshot_path", "write_fake_assets"]

SNAPSHOT_COMMIT = "da438fec6484cdb6f421f8c7051d954ebefff730"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_UPSTREAMS = Path(os.environ.get("MEDSKILLS_SHARED_UPSTREAMS", _REPO_ROOT.parent / "shared" / "upstreams"))


def snapshot_path() -> Path:
    """``../shared/upstreams/NV-Generate-CTMR`` (or under ``$MEDSKILLS_SHARED_UPSTREAMS``)."""
    return (_UPSTREAMS / "NV-Generate-CTMR").resolve()


@pytest.fixture(scope="session")
def nv_generate_snapshot() -> Path:
    """The read-only snapshot; tests skip with a clear reason when ``../shared`` is not beside the checkout."""
    path = snapshot_path()
    if not (path / "scripts" / "inference.py").is_file():
        pytest.skip(f"NV-Generate-CTMR snapshot not found at {path}; put ../shared beside the checkout "
                    "or set MEDSKILLS_SHARED_UPSTREAMS")
    return path


def _make_writable(root: Path) -> None:
    for folder, _, files in os.walk(root):
        os.chmod(folder, os.stat(folder).st_mode | stat.S_IWUSR)
        for name in files:
            path = Path(folder) / name
            os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)


def copy_snapshot(destination: Path, *, snapshot: Path | None = None) -> Path:
    """A writable copy of the snapshot's code and configs at ``destination`` (no weights, no datasets)."""
    source = snapshot or snapshot_path()
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
    _make_writable(destination)
    return destination


def write_fake_assets(root: Path, *, data_root: Path | None = None, skills: tuple[SkillId, ...] = (
        SkillId.SYNTH_CT, SkillId.SYNTH_MR_BRAIN), skip: tuple[str, ...] = ()) -> None:
    """Small placeholder files for every weight (under ``root``) and dataset (under ``data_root``).

    JSON datasets hold an empty list, the mask zip an empty archive. ``skip`` names targets left out.
    """
    data_root = data_root or root
    for skill in skills:
        for version in skill_assets(skill).versions:
            for asset in assets_for(skill, version):
                if asset.target in skip:
                    continue
                base = root if asset.kind == AssetKind.WEIGHT else data_root
                target = base / asset.target
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    continue
                if target.suffix == ".json":
                    target.write_text(json.dumps([]))
                elif target.suffix == ".zip":
                    target.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
                else:
                    target.write_bytes(f"fake {asset.target}".encode())

