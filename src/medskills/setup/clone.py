"""Clone an upstream at its pinned commit, or verify an existing clone: remote, commit, clean tree."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from medskills.core.errors import EnvironmentProblem, UpstreamFailure
from medskills.core.provenance import git_state
from medskills.setup.models import CloneAction, CloneOutcome

__all__ = [
    "GIT_TIMEOUT_SECONDS",
    "CloneInspection",
    "clone_problems",
    "ensure_clone",
    "inspect_clone",
    "normalize_remote",
    "verify_clone",
]

logger = logging.getLogger(__name__)

GIT_TIMEOUT_SECONDS = 600.0


def _git(*args: str, cwd: Path | None = None, timeout_seconds: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run git without a prompt for credentials (a missing network must fail, not hang)."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout_seconds, check=False,
            env=env,
        )
    except FileNotFoundError as err:
        raise EnvironmentProblem("git is not installed; install it (apt-get install git) and re-run setup.") from err
    except subprocess.TimeoutExpired as err:
        raise UpstreamFailure(f"git {' '.join(args)} took longer than {timeout_seconds:.0f} s; check the network "
                              "and re-run setup.") from err


def normalize_remote(url: str) -> str:
    """Compare remotes without caring about a trailing ``.git`` or ``/`` or the scheme of GitHub URLs."""
    text = url.strip().rstrip("/")
    text = text.removesuffix(".git")
    if text.startswith("git@github.com:"):
        text = "https://github.com/" + text.removeprefix("git@github.com:")
    return text.lower()


@dataclass(frozen=True)
class CloneInspection:
    """What a clone looks like against its pin; ``None`` fields could not be determined."""

    remote_url: str | None
    head_commit: str | None
    has_pin: bool
    contains_pin: bool
    is_dirty: bool | None

    def is_remote(self, url: str) -> bool:
        """True when ``origin`` is ``url`` (ignoring ``.git``, trailing ``/``, ssh/https)."""
        return self.remote_url is not None and normalize_remote(self.remote_url) == normalize_remote(url)


def inspect_clone(path: Path, *, pinned_commit: str) -> CloneInspection:
    """Read remote, HEAD, pin ancestry and the dirty flag of the clone at ``path`` (never raises for git errors)."""
    toplevel = _git("rev-parse", "--show-toplevel", cwd=path)
    if toplevel.returncode != 0 or Path(toplevel.stdout.strip()).resolve() != path.resolve():
        return CloneInspection(remote_url=None, head_commit=None, has_pin=False, contains_pin=False, is_dirty=None)
    remote = _git("remote", "get-url", "origin", cwd=path)
    state = git_state(path)
    has_pin = _git("cat-file", "-e", f"{pinned_commit}^{{commit}}", cwd=path).returncode == 0
    contains = has_pin and _git("merge-base", "--is-ancestor", pinned_commit, "HEAD", cwd=path).returncode == 0
    return CloneInspection(remote_url=remote.stdout.strip() if remote.returncode == 0 else None,
                           head_commit=state.commit, has_pin=has_pin, contains_pin=contains,
                           is_dirty=state.is_dirty)


def clone_problems(path: Path, inspection: CloneInspection, *, url: str, pinned_commit: str) -> list[str]:
    """Each way the clone differs from what the skill needs, with the command that fixes it."""
    problems: list[str] = []
    if not inspection.is_remote(url):
        problems.append(f"remote 'origin' is {inspection.remote_url or 'missing'}, expected {url}. Fix: "
                        f"git -C {path} remote set-url origin {url}, or clone elsewhere.")
    head = (inspection.head_commit or "unknown")[:12]
    if not inspection.has_pin:
        problems.append(f"HEAD {head} is older than the pinned commit {pinned_commit[:12]} (not in this clone). "
                        f"Fix: git -C {path} fetch origin && git -C {path} checkout --detach {pinned_commit}")
    elif not inspection.contains_pin:
        problems.append(f"HEAD {head} does not contain the pinned commit {pinned_commit[:12]}. "
                        f"Fix: git -C {path} checkout --detach {pinned_commit}")
    if inspection.is_dirty:
        problems.append(f"the clone has uncommitted changes to tracked files. Fix: inspect with git -C {path} status; "
                        f"then commit, stash or git -C {path} checkout -- . (this discards them)")
    return problems


def verify_clone(path: Path, *, url: str, pinned_commit: str) -> CloneOutcome:
    """Check an existing clone: right remote, pinned-or-newer HEAD, clean tracked files.

    Collects every problem and raises one EnvironmentProblem naming each with its fix.
    """
    inspection = inspect_clone(path, pinned_commit=pinned_commit)
    if inspection.head_commit is None:
        raise EnvironmentProblem(f"{path} exists but is not a git clone. Move it away, or point --root elsewhere, "
                                 f"and re-run setup.")
    problems = clone_problems(path, inspection, url=url, pinned_commit=pinned_commit)
    if problems:
        raise EnvironmentProblem(f"The upstream clone at {path} is not usable: " + " | ".join(problems))
    return CloneOutcome(url=url, path=path, pinned_commit=pinned_commit, head_commit=inspection.head_commit,
                        action=CloneAction.VERIFIED)


def ensure_clone(path: Path, *, url: str, pinned_commit: str) -> CloneOutcome:
    """Verify ``path`` if it exists; otherwise clone into a ``.partial`` folder, check out the pin, rename."""
    if path.exists():
        return verify_clone(path, url=url, pinned_commit=pinned_commit)
    partial = path.with_name(f".{path.name}.partial")
    if partial.exists():
        logger.info("Removing the unfinished clone %s from an earlier attempt", partial)
        shutil.rmtree(partial)
    path.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Cloning %s into %s", url, path)
    try:
        cloned = _git("clone", "--no-checkout", url, str(partial), timeout_seconds=GIT_TIMEOUT_SECONDS)
        if cloned.returncode != 0:
            raise UpstreamFailure(f"git clone {url} failed: {_tail(cloned.stderr)}. Check the network and the URL, "
                                  f"then re-run setup (nothing was left behind).")
        checkout = _git("checkout", "--detach", pinned_commit, cwd=partial)
        if checkout.returncode != 0:
            raise UpstreamFailure(f"git checkout {pinned_commit} in the clone of {url} failed: "
                                  f"{_tail(checkout.stderr)}. The pinned commit may be gone upstream.")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(path)
    return CloneOutcome(url=url, path=path, pinned_commit=pinned_commit, head_commit=pinned_commit,
                        action=CloneAction.CLONED)


def _tail(text: str, *, lines: int = 3) -> str:
    return " ".join(text.strip().splitlines()[-lines:]) or "(no output)"
