"""The seed scripts find medskills in their own checkout, and name any missing dependency with its pip fix.

Each script runs under ``python -S``: no site-packages processing, so the editable install of
medskills (a ``.pth`` hook) is invisible and only the script's own ``src/`` path can supply it. The
third-party packages come back through ``PYTHONPATH`` (all of them, or all but one).
"""

from __future__ import annotations

import os
import shlex
import site
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHIMS = sorted([*REPO.glob("skills/*/scripts/*.py"), *REPO.glob("verifiers/*/scripts/grade.py")])
SITE_PACKAGES = [Path(p) for p in site.getsitepackages() if Path(p).is_dir()]


def _run_without_site(script: Path, *args: str, pythonpath: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return subprocess.run([sys.executable, "-S", str(script), *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120, check=False)


def _site_packages_without(tmp_path: Path, hidden: str) -> Path:
    """A folder of links to every site-packages entry except the ``hidden`` package (and its dist-info)."""
    folder = tmp_path / f"site-without-{hidden}"
    folder.mkdir()
    for root in SITE_PACKAGES:
        for entry in root.iterdir():
            is_hidden = entry.name == hidden or entry.name.startswith(f"{hidden}-")
            if not is_hidden and not (folder / entry.name).exists():
                (folder / entry.name).symlink_to(entry)
    return folder


@pytest.mark.parametrize("script", SHIMS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_seed_script_runs_from_the_checkout_without_an_install(script: Path) -> None:
    done = _run_without_site(script, "--help", pythonpath=SITE_PACKAGES)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage" in done.stdout


def test_a_missing_dependency_is_named_in_one_line_with_its_pip_command(tmp_path: Path) -> None:
    script = REPO / "skills" / "nv-segment-ctmr" / "scripts" / "run_ctmr.py"
    done = _run_without_site(script, "x.nii.gz", "--modality", "CT_BODY", "--output-dir", str(tmp_path / "o"),
                             pythonpath=[_site_packages_without(tmp_path, "pydantic")])
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "run_ctmr.py: medskills needs packages" in line and "cannot import: pydantic." in line
    assert shlex.split(line.split("Fix: ", 1)[1]) == [sys.executable, "-m", "pip", "install", "pydantic>=2.6"]
    assert not (tmp_path / "o").exists()


def test_with_no_third_party_package_every_base_dependency_is_listed(tmp_path: Path) -> None:
    done = _run_without_site(REPO / "verifiers" / "ct_segmentation_quality_v1" / "scripts" / "grade.py", "run",
                             pythonpath=[])
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    missing = line.split("cannot import: ", 1)[1].split(". Fix: ", 1)[0].split(", ")
    assert missing == ["numpy", "scipy", "nibabel", "pydicom", "pydantic", "pydantic_settings", "typer", "rich",
                       "jinja2", "yaml"]
