"""House rule 5: `import medskills` and `medskills --help` stay fast; heavy packages load on first use."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "monai", "matplotlib", "fastapi", "highdicom", "lightgbm", "transformers", "scipy")


def test_importing_the_cli_loads_no_heavy_package() -> None:
    code = (
        "import json, sys, medskills.cli; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == []


def test_help_exits_zero_and_lists_every_area() -> None:
    done = subprocess.run([sys.executable, "-m", "medskills.cli", "--help"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for area in ("synth", "anatomy", "segment", "verify", "triage", "setup", "doctor"):
        assert area in done.stdout
