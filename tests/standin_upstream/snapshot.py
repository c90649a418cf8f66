"""The real NV-Generate-CTMR snapshot in ``../shared/upstreams`` and writable temporary copies of it.

Tests read the unmodified upstream code and configs from there (never from the project). A copy gets
fake weight and dataset files named by upstream's own ``scripts/download_model_data.py``: the real
function runs with its network step replaced by a recorder (:func:`upstream_download_files`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import stat
from functools import cache
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "SNAPSHOT_COMMIT", "copy_snapshot", "nv_generate_snapshot", "snapshot_path", "upstream_download_files",
    "write_fake_assets",
]

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


@cache
def _download_module(snapshot: Path) -> Any:
    """Upstream ``scripts/download_model_data.py`` loaded under a private name (it imports only huggingface_hub)."""
    spec = importlib.util.spec_from_file_location("nv_generate_download_model_data",
                                                  snapshot / "scripts" / "download_model_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upstream_download_files(version: str, *, root_dir: str = "ROOT_DIR", model_only: bool = False,
                            snapshot: Path | None = None) -> list[dict[str, str]]:
    """What upstream's ``download_model_data(version, root_dir, model_only)`` would fetch: repo_id, filename, path.

    ``path`` is relative to the working directory for ``models/`` and starts with ``root_dir`` for
    ``datasets/``, exactly as upstream computes it. Nothing is downloaded.
    """
    module = _download_module(snapshot or snapshot_path())
    captured: list[list[dict[str, str]]] = []
    original = module.fetch_to_hf_path_cmd
    module.fetch_to_hf_path_cmd = lambda items, **_: captured.append([dict(item) for item in items]) or []
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # upstream prints "saved to: [...]"
            module.download_model_data(version, root_dir, model_only)
    finally:
        module.fetch_to_hf_path_cmd = original
    return captured[0]


def write_fake_assets(root: Path, *, data_root: Path | None = None,
                      versions: tuple[str, ...] = ("rflow-ct", "ddpm-ct", "rflow-mr-brain"),
                      skip: tuple[str, ...] = ()) -> None:
    """Small placeholder files for everything upstream's downloader checks for ``versions``.

    Weights land under ``root``, datasets under ``data_root`` (default ``root``). JSON datasets hold an
    empty list, the mask zip an empty archive. ``skip`` names paths (``models/...``, ``datasets/...``) left out.
    """
    data_root = data_root or root
    for version in versions:
        for item in upstream_download_files(version, root_dir=str(data_root)):
            relative = os.path.relpath(item["path"], data_root) if item["path"].startswith(str(data_root)) \
                else item["path"]
            if relative in skip:
                continue
            target = Path(item["path"]) if os.path.isabs(item["path"]) else root / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                continue
            if target.suffix == ".json":
                target.write_text(json.dumps([]))
            elif target.suffix == ".zip":
                target.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip archive
            else:
                target.write_bytes(f"fake {relative}".encode())
