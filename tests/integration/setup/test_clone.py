"""Cloning at the pin and verifying existing clones, against a local bare repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from medskills.core.errors import EnvironmentProblem, UpstreamFailure
from medskills.setup.clone import ensure_clone, inspect_clone, normalize_remote, verify_clone
from medskills.setup.models import CloneAction

Git = Callable[..., str]


def test_fresh_clone_checks_out_the_pinned_commit(bare_upstream, tmp_path: Path, run_git: Git) -> None:
    target = tmp_path / "clones" / "Upstream"
    newer = bare_upstream.add_commit("later.txt")
    outcome = ensure_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    assert outcome.action == CloneAction.CLONED
    assert run_git("rev-parse", "HEAD", cwd=target) == bare_upstream.pinned_commit != newer
    assert not (tmp_path / "clones" / ".Upstream.partial").exists()


def test_second_run_verifies_instead_of_cloning(bare_upstream, tmp_path: Path) -> None:
    target = tmp_path / "Upstream"
    ensure_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    again = ensure_clone(target, url=bare_upstream.url + "/", pinned_commit=bare_upstream.pinned_commit)
    assert again.action == CloneAction.VERIFIED
    assert again.head_commit == bare_upstream.pinned_commit


def test_a_newer_head_than_the_pin_is_accepted(bare_upstream, tmp_path: Path, run_git: Git) -> None:
    target = tmp_path / "Upstream"
    ensure_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    newer = bare_upstream.add_commit("later.txt")
    run_git("fetch", "-q", "origin", cwd=target)
    run_git("checkout", "-q", "--detach", newer, cwd=target)
    assert verify_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit).head_commit == newer


def test_wrong_remote_is_refused_with_the_set_url_fix(bare_upstream, tmp_path: Path, run_git: Git) -> None:
    target = tmp_path / "Upstream"
    ensure_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    run_git("remote", "set-url", "origin", "https://example.invalid/fork.git", cwd=target)
    with pytest.raises(EnvironmentProblem, match="remote set-url origin"):
        verify_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)


def test_dirty_tree_is_refused(bare_upstream, tmp_path: Path) -> None:
    target = tmp_path / "Upstream"
    ensure_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    (target / "scripts.py").write_text("x = 2\n", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="uncommitted changes"):
        verify_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)


def test_old_commit_is_refused_with_the_checkout_fix(bare_upstream, tmp_path: Path, run_git: Git) -> None:
    target = tmp_path / "Upstream"
    ensure_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    run_git("checkout", "-q", "--detach", bare_upstream.old_commit, cwd=target)
    with pytest.raises(EnvironmentProblem, match=f"checkout --detach {bare_upstream.pinned_commit}"):
        verify_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)


def test_clone_that_predates_the_pin_is_told_to_fetch(bare_upstream, tmp_path: Path) -> None:
    target = tmp_path / "Upstream"
    ensure_clone(target, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    newer = bare_upstream.add_commit("later.txt")
    inspection = inspect_clone(target, pinned_commit=newer)
    assert not inspection.has_pin and not inspection.contains_pin
    with pytest.raises(EnvironmentProblem, match="fetch origin"):
        verify_clone(target, url=bare_upstream.url, pinned_commit=newer)


def test_failed_clone_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "Upstream"
    with pytest.raises(UpstreamFailure, match="git clone .*missing.git failed"):
        ensure_clone(target, url=str(tmp_path / "missing.git"), pinned_commit="0" * 40)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_unknown_pin_fails_the_checkout_and_cleans_up(bare_upstream, tmp_path: Path) -> None:
    target = tmp_path / "clones" / "Upstream"
    with pytest.raises(UpstreamFailure, match="checkout"):
        ensure_clone(target, url=bare_upstream.url, pinned_commit="1" * 40)
    assert list((tmp_path / "clones").iterdir()) == []


def test_existing_non_git_folder_is_not_touched(tmp_path: Path) -> None:
    target = tmp_path / "Upstream"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="not a git clone"):
        ensure_clone(target, url="https://example.invalid/x.git", pinned_commit="0" * 40)
    assert (target / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_remote_comparison_ignores_suffix_and_ssh_form() -> None:
    assert normalize_remote("git@github.com:NVIDIA-Medtech/NV-Generate-CTMR.git") == normalize_remote(
        "https://github.com/NVIDIA-Medtech/NV-Generate-CTMR/")


def test_plain_folder_inside_another_repository_is_not_mistaken_for_a_clone(bare_upstream, tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    ensure_clone(outer, url=bare_upstream.url, pinned_commit=bare_upstream.pinned_commit)
    inner = outer / "NV-Generate-CTMR"
    inner.mkdir()
    assert inspect_clone(inner, pinned_commit=bare_upstream.pinned_commit).head_commit is None
