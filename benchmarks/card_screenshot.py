"""Open a CT summary card in headless Chromium and save a screenshot (proof the card renders).

Run: python benchmarks/card_screenshot.py --output-dir /tmp/card-shot [--card OUT/summary.html]

Without ``--card`` the script makes one: it runs the CT synthesis pipeline end to end against the
test stand-in upstream (``tests/standin_upstream``, outputs derived from the real
``../shared/data/ct_abdomen_3mm`` scan) and screenshots that run's ``summary.html``. It prints the
PNG path, its size and how many distinct colours it holds (a blank page has one or two).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Headless, offline and quiet: no sandbox (CI runs as root), no GPU, no network chatter, a fresh profile.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


def find_browser() -> str | None:
    """The first headless-capable Chromium on PATH, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(card: Path, png: Path, *, width: int = 1280, height: int = 1800, timeout_seconds: float = 90) -> Path:
    """Render ``card`` in headless Chromium into ``png``. Raises RuntimeError when no PNG is produced."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError("no Chromium found; install it with `apt-get install -y chromium`")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        argv = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                f"--screenshot={png}", card.resolve().as_uri()]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_seconds, check=False)
    if not png.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}")
    return png


def distinct_colours(png: Path) -> int:
    """Number of distinct RGB colours in the screenshot."""
    import matplotlib.image as mpimg
    import numpy as np

    pixels = (mpimg.imread(str(png))[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    return int(np.unique(pixels, axis=0).shape[0])


def card_from_standin(work_dir: Path) -> Path:
    """Run the CT pipeline against the test stand-in upstream and return the card it wrote."""
    sys.path[:0] = [str(REPO_ROOT / "src"), str(REPO_ROOT / "tests")]
    from medskills.core.io import sha256_file
    from medskills.core.provenance import DeviceInfo
    from medskills.core.settings import Settings
    from medskills.synthesis.paired_ct.request import CTRunRequest
    from medskills.synthesis.paired_ct.run import run_ct_synthesis
    from standin_upstream import build_nv_generate_root

    scan_dir = Path(os.environ.get("MEDSKILLS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "ct_abdomen_3mm"
    standin = build_nv_generate_root(work_dir, scan_dir=scan_dir)
    config = work_dir / "request.json"
    config.write_text('{"anatomy_list": ["liver", "spleen", "right kidney", "left kidney", "stomach", "aorta"], '
                      '"output_size": [256, 256, 128], "spacing": [1.5, 1.5, 2.5]}')
    settings = Settings(NV_GENERATE_ROOT=standin.root, weight_hash_cache=work_dir / "cache.json")
    pins = {p.name: sha256_file(p) for p in (standin.root / "models").iterdir()}
    device = DeviceInfo(cuda_available=True, device_name="stand-in", total_memory_gb=80.0)
    record = run_ct_synthesis(CTRunRequest(config_path=config, output_dir=work_dir / "out"), settings=settings,
                              device=device, expected_sha256=pins)
    if record.card_path is None:
        raise RuntimeError(f"the run wrote no card: {record.card_error}")
    return record.card_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--card", type=Path, default=None)
    options = parser.parse_args()
    options.output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        card = options.card or card_from_standin(Path(work))
        kept_card = shutil.copy2(card, options.output_dir / "summary.html")
        png = screenshot(Path(kept_card), options.output_dir / "summary.png")
    print(f"card: {kept_card}\nscreenshot: {png} ({png.stat().st_size} bytes, {distinct_colours(png)} colours)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
