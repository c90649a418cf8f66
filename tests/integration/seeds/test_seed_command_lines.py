"""The seeds' bash blocks, verbatim, in a fresh venv made from the checkout (no ``pip install -e .``).

One venv per module, with ``torch==2.13.0`` installed first as ``.ci/run`` does (any other torch
request would pull a CUDA build). Each block runs as a user would paste it, from the repository
root, with only its placeholders filled in: the input path, and the example output folder
(``runs/...``) moved to a temporary folder so the checkout stays clean. ``NV_GENERATE_ROOT`` points
at a temporary copy of the real NV-Generate-CTMR snapshot and ``NV_SEGMENT_CTMR_ROOT`` at a copy of
the real bundle (no weights in either). A block must reach our preflight: directly, or after the
one-line dependency message, whose own ``pip install`` fix is then run, as a user would.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO.parent / "shared" / "seeds"
UPSTREAMS = REPO.parent / "shared" / "upstreams"
TORCH = "torch==2.13.0"

# The Usage blocks, line by line as the seeds print them (checked against the seed files below).
SEED_BLOCKS = {
    "000_72b0ef092000d11d.txt": [
        'export NV_GENERATE_ROOT="${NV_GENERATE_ROOT:-$HOME/nv-generate-ctmr}" && \\',
        'python -m pip install -r "$NV_GENERATE_ROOT/requirements.txt" && \\',
        "python skills/nv-generate-ct-rflow/scripts/run_rflow_ct.py \\",
        "PATH_TO_CONFIG_INFER.json \\",
        "--output-dir runs/nv_generate_ct_rflow_demo \\",
        "--random-seed 0 \\",
        "--version rflow-ct",
    ],
    "001_53662f0fce96cb83.txt": [
        'export NV_GENERATE_ROOT="${NV_GENERATE_ROOT:-.workbench_data/upstreams/NV-Generate-CTMR}" && \\',
        'python -m pip install -r "$NV_GENERATE_ROOT/requirements.txt" && \\',
        "python skills/nv-generate-mr-brain/scripts/run_mr_brain.py \\",
        "  PATH_TO_MR_BRAIN_CONFIG.json \\",
        "  --output-dir runs/nv_generate_mr_brain_demo \\",
        "  --modality mri_t1 \\",
        "  --random-seed 1234",
    ],
    "002_9555fa6db43dfb24.txt": [
        'export NV_SEGMENT_CTMR_ROOT="${NV_SEGMENT_CTMR_ROOT:-.workbench_data/upstreams/NV-Segment-CTMR/'
        'NV-Segment-CTMR}" && \\',
        'python -m pip install "monai>=1.5,<1.6" "numpy<2" nibabel scipy typer PyYAML fire huggingface_hub '
        "pytorch-ignite einops && \\",
        "python skills/nv-segment-ctmr/scripts/run_ctmr.py PATH_TO_IMAGE.nii.gz \\",
        "--modality CT_BODY \\",
        "--output-dir runs/nv_segment_ctmr_demo",
    ],
}
DEPENDENCY_LINE = "medskills needs packages this Python"


@pytest.mark.parametrize("seed", sorted(SEED_BLOCKS))
def test_seed_blocks_are_quoted_verbatim(seed: str) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seeds not found at {SEEDS}")
    text = (SEEDS / seed).read_text(encoding="utf-8")
    assert [line for line in SEED_BLOCKS[seed] if line.strip() not in text] == []


@pytest.fixture(scope="module")
def seed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the CPU torch in it."""
    if not UPSTREAMS.is_dir():
        pytest.skip(f"real upstream snapshots not found at {UPSTREAMS}")
    venv = tmp_path_factory.mktemp("seed-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", TORCH], check=True, timeout=1200)
    return venv


@pytest.fixture(scope="module")
def upstream_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Temporary copies of both snapshots, so nothing a seed does can touch ../shared."""
    folder = tmp_path_factory.mktemp("upstreams")
    generate = shutil.copytree(UPSTREAMS / "NV-Generate-CTMR", folder / "NV-Generate-CTMR")
    segment = shutil.copytree(UPSTREAMS / "NV-Segment-CTMR" / "NV-Segment-CTMR", folder / "NV-Segment-CTMR")
    return {"NV_GENERATE_ROOT": generate, "NV_SEGMENT_CTMR_ROOT": segment}


def _environment(venv: Path, roots: dict[str, Path]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**keep, **{k: str(v) for k, v in roots.items()}, "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}


def _run_block(block: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", block], capture_output=True, text=True, env=env, cwd=REPO, timeout=1800,
                          check=False)


def _record(stdout: str) -> dict[str, object]:
    """The one JSON result our command prints after pip's own output."""
    start = next(i for i, line in enumerate(stdout.splitlines()) if line.startswith("{"))
    return json.loads("\n".join(stdout.splitlines()[start:]))


def _reach_preflight(seed: str, substitutions: dict[str, str], venv: Path, roots: dict[str, Path],
                     ) -> tuple[dict[str, object], int]:
    block = "\n".join(SEED_BLOCKS[seed])
    for placeholder, value in substitutions.items():
        block = block.replace(placeholder, value)
    env = _environment(venv, roots)
    done = _run_block(block, env)
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    if DEPENDENCY_LINE in last:
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
        fix = shlex.split(last.split("Fix: ", 1)[1])
        assert fix[:4] == [str(venv / "bin" / "python"), "-m", "pip", "install"], last
        subprocess.run(fix, check=True, env=env, timeout=1800, capture_output=True)
        done = _run_block(block, env)
    assert "Traceback" not in done.stderr and "ModuleNotFoundError" not in done.stderr, done.stderr[-3000:]
    return _record(done.stdout), done.returncode


def test_ct_synthesis_seed_reaches_preflight_with_the_upstream_config_infer(
    seed_venv: Path, upstream_roots: dict[str, Path], tmp_path: Path
) -> None:
    config = upstream_roots["NV_GENERATE_ROOT"] / "configs" / "config_infer.json"
    record, code = _reach_preflight("000_72b0ef092000d11d.txt", {
        "PATH_TO_CONFIG_INFER.json": str(config), "runs/nv_generate_ct_rflow_demo": str(tmp_path / "ct")},
        seed_venv, upstream_roots)
    assert "preflight" in record and code in (0, 2) and record["exit_code"] == code


def test_mr_brain_seed_reaches_preflight(seed_venv: Path, upstream_roots: dict[str, Path], tmp_path: Path) -> None:
    record, code = _reach_preflight("001_53662f0fce96cb83.txt", {
        "PATH_TO_MR_BRAIN_CONFIG.json": "default", "runs/nv_generate_mr_brain_demo": str(tmp_path / "mr")},
        seed_venv, upstream_roots)
    assert "preflight" in record and code in (0, 2) and record["exit_code"] == code


def test_segmentation_seed_reaches_preflight_with_every_bundle_package_installed(
    seed_venv: Path, upstream_roots: dict[str, Path], tmp_path: Path, shared_data: Path
) -> None:
    image = shared_data / "ct_abdomen_3mm" / "image.nii.gz"
    record, code = _reach_preflight("002_9555fa6db43dfb24.txt", {
        "PATH_TO_IMAGE.nii.gz": str(image), "runs/nv_segment_ctmr_demo": str(tmp_path / "seg")},
        seed_venv, upstream_roots)
    preflight = record["preflight"]
    assert isinstance(preflight, dict) and code == 2 and preflight["request_valid"] is True
    errors = {error["code"] for error in preflight["errors"]}
    assert "weights_missing" in errors  # the snapshot has no weights; every package the bundle imports is there
    assert not errors & {"bundle_missing", "bundle_packages_missing"}, preflight["errors"]
    versions = subprocess.run([str(seed_venv / "bin" / "python"), "-c",
                               "import numpy, monai; print(numpy.__version__, monai.__version__)"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert versions[0].startswith("1.") and versions[1].startswith("1.5"), versions
