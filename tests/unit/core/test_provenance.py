from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from medskills.core import provenance
from medskills.core.provenance import git_state, hash_file_cached, package_versions, weight_inventory


def test_hash_cache_avoids_rehashing_an_unchanged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"w" * 1024)
    cache = tmp_path / "cache.json"
    first = hash_file_cached(weights, cache)
    calls: list[Path] = []
    monkeypatch.setattr(provenance, "sha256_file", lambda p: calls.append(p) or "0" * 64)
    assert hash_file_cached(weights, cache) == first
    assert calls == []


def test_hash_cache_rehashes_when_the_file_changes(tmp_path: Path) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"a")
    cache = tmp_path / "cache.json"
    first = hash_file_cached(weights, cache)
    weights.write_bytes(b"bb")
    os.utime(weights, ns=(1, 1))
    assert hash_file_cached(weights, cache) != first
    assert len(json.loads(cache.read_text())) == 1


def test_corrupt_hash_cache_is_ignored(tmp_path: Path) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"a")
    cache = tmp_path / "cache.json"
    cache.write_text("{not json")
    assert len(hash_file_cached(weights, cache)) == 64


def test_weight_inventory_reports_missing_files_and_pin_mismatches(tmp_path: Path) -> None:
    present = tmp_path / "a.pt"
    present.write_bytes(b"x")
    inventory = weight_inventory([present, tmp_path / "b.pt"], cache_path=tmp_path / "c.json",
                                 expected_sha256={"a.pt": "0" * 64})
    assert inventory[0].is_present and inventory[0].is_hash_match is False
    assert not inventory[1].is_present


def test_git_state_reports_commit_and_dirty_flag(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("1")
    git("add", "f.txt")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    clean = git_state(tmp_path)
    assert clean.commit is not None and len(clean.commit) == 40 and clean.is_dirty is False
    (tmp_path / "f.txt").write_text("2")
    assert git_state(tmp_path).is_dirty is True


def test_git_state_of_a_plain_folder_is_unknown(tmp_path: Path) -> None:
    assert git_state(tmp_path).commit is None


def test_package_versions_reports_missing_packages_as_none() -> None:
    versions = package_versions(("numpy", "surely-not-installed-pkg"))
    assert versions["numpy"] and versions["surely-not-installed-pkg"] is None
