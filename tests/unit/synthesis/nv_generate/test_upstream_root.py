"""Finding the NV-Generate-CTMR clone: NV_GENERATE_ROOT, else (also when it is stale) the repo-local clone."""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.preflight import PreflightCollector
from medskills.core.settings import load_settings
from medskills.synthesis.nv_generate.checks import resolve_generate_root
from medskills.synthesis.nv_generate.upstream_root import locate_nv_generate_root
from standin_upstream.snapshot import copy_snapshot, nv_generate_snapshot  # noqa: F401

LOCAL = Path(".workbench_data/upstreams/NV-Generate-CTMR")


@pytest.fixture
def workbench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _stale_clone(base: Path) -> Path:
    stale = base / "old-clone"
    (stale / "configs").mkdir(parents=True)
    (stale / "configs" / "config_infer.json").write_text("{}")  # no scripts/inference.py
    return stale


def test_stale_root_falls_back_to_the_repo_local_clone_with_a_warning_naming_both(
        workbench, monkeypatch, nv_generate_snapshot):
    local = copy_snapshot(workbench / LOCAL, snapshot=nv_generate_snapshot)
    stale = _stale_clone(workbench)
    monkeypatch.setenv("NV_GENERATE_ROOT", str(stale))
    location = locate_nv_generate_root(load_settings())
    assert location.root == local.absolute() and location.problem is None
    assert str(stale) in location.warning and str(local.absolute()) in location.warning
    assert "scripts/inference.py" in location.warning
    collector = PreflightCollector()
    assert resolve_generate_root(collector, load_settings()) == local.absolute()
    (warning,) = collector.report().warnings
    assert warning.code == "upstream_root_fallback" and not collector.report().errors


def test_stale_root_without_a_local_clone_is_an_error_naming_both(workbench, monkeypatch):
    stale = _stale_clone(workbench)
    monkeypatch.setenv("NV_GENERATE_ROOT", str(stale))
    location = locate_nv_generate_root(load_settings())
    assert location.root is None and location.warning is None
    assert str(stale) in location.problem and str((workbench / LOCAL).absolute()) in location.problem


def test_a_good_root_wins_over_the_local_clone_without_a_warning(workbench, monkeypatch, nv_generate_snapshot):
    copy_snapshot(workbench / LOCAL, snapshot=nv_generate_snapshot)
    chosen = copy_snapshot(workbench / "mine", snapshot=nv_generate_snapshot)
    monkeypatch.setenv("NV_GENERATE_ROOT", str(chosen))
    location = locate_nv_generate_root(load_settings())
    assert location.root == chosen and location.warning is None
