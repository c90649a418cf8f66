"""The exact ``python -m scripts.inference`` command for one paired CT run, from the staged configs."""

from __future__ import annotations

import sys
from pathlib import Path

from medskills.core.upstream import UpstreamCommand, build_environment
from medskills.synthesis.nv_generate.staging import CUDA_ALLOC_CONF, LOG_DIR_NAME, StagedRun
from medskills.synthesis.paired_ct.request import CTRunRequest

__all__ = ["build_ct_command"]


def build_ct_command(
    request: CTRunRequest, staged: StagedRun, *, root: Path, data_root: Path, output_dir: Path,
    is_inventory_complete: bool,
) -> UpstreamCommand:
    """The exact ``python -m scripts.inference`` call, run in the clone with an allow-listed environment."""
    overrides = {
        "MONAI_DATA_DIRECTORY": str(data_root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTORCH_CUDA_ALLOC_CONF": CUDA_ALLOC_CONF,
    }
    if is_inventory_complete:
        overrides["HF_HUB_OFFLINE"] = "1"
    environment = build_environment(overrides)
    argv = [
        sys.executable, "-m", "scripts.inference",
        "-t", str(staged.network_path), "-i", str(staged.inference_path), "-e", str(staged.environment_path),
        "--random-seed", str(request.random_seed), "--version", request.version.value,
    ]
    return UpstreamCommand(argv=argv, cwd=root, env=environment, timeout_seconds=request.timeout_seconds,
                           log_dir=output_dir / LOG_DIR_NAME, log_name="scripts.inference")
