"""House rule 10: the shared layers (core/, dicom/, pretrained/), batch/ and synthesis/ stay clean under ``mypy --strict``.

The capability packages written before this rule are not in the list yet; a package joins it once
it is clean, and never leaves.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STRICT_PACKAGES = [
    "src/medskills/core", "src/medskills/dicom", "src/medskills/pretrained", "src/medskills/batch",
    "src/medskills/synthesis", "src/medskills/verification",
]


def test_strict_packages_are_clean_under_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), *STRICT_PACKAGES],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
