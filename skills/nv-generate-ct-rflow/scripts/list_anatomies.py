"""List MAISI anatomy names for CT synthesis requests (thin shim over `medskills anatomy list`).

Usage: python list_anatomies.py [--region chest] [--controllable] [--filter tumor]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.synth:list_anatomies_script")
