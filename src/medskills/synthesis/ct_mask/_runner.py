"""Child process for mask-only generation: ``python -m medskills.synthesis.ct_mask._runner JOB.json``.

Upstream has no mask-only command, only the library function
``scripts.sample_mask.ldm_conditional_sample_one_mask``. This module runs in a subprocess whose working
directory is the upstream root (put on ``sys.path`` here, never in the parent), builds the mask
autoencoder, mask diffusion UNet and DDPM scheduler the way ``scripts.inference`` does, and saves each
mask as int16 NIfTI in raw MAISI ids at upstream's implied 1.5 mm isotropic spacing.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import random
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
from pydantic import Field

from medskills.core.models import FrozenModel

__all__ = ["MASK_SPACING_MM", "MaskJob", "main", "mask_file_name"]

MASK_SPACING_MM = (1.5, 1.5, 1.5)
logger = logging.getLogger("medskills.mask_runner")


class MaskJob(FrozenModel):
    """What the child runs; written by the parent into the staged folder."""

    environment_path: Path
    network_path: Path
    inference_path: Path
    anatomy_size: list[float] = Field(min_length=10, max_length=10, description="Upstream's 10-slot size vector.")
    num_samples: int = Field(ge=1)
    num_inference_steps: int = Field(ge=1, le=1000)
    sliding_window_size: tuple[int, int, int]
    sliding_window_overlap: float
    random_seed: int
    output_dir: Path


def mask_file_name(index: int) -> str:
    """``mask_0000.nii.gz`` for sample 0."""
    return f"mask_{index:04d}.nii.gz"


def _arguments(job: MaskJob) -> Namespace:
    """Environment, then network definition, then inference config: later files override, as upstream loads them."""
    merged: dict[str, object] = {}
    for path in (job.environment_path, job.network_path, job.inference_path):
        merged.update(json.loads(Path(path).read_text(encoding="utf-8")))
    return Namespace(**merged)


def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def main(argv: list[str] | None = None) -> int:
    """Run the job named on the command line; exit 0 only when every mask was written."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="[%(levelname)s] %(name)s: %(message)s")
    job = MaskJob.model_validate_json(Path((argv or sys.argv[1:])[0]).read_text(encoding="utf-8"))
    sys.path.insert(0, os.getcwd())  # the upstream root: its ``scripts`` package
    import torch
    # Upstream is importable only here, with its root as working directory (never typed, never vendored).
    ldm_conditional_sample_one_mask = importlib.import_module("scripts.sample_mask").ldm_conditional_sample_one_mask
    define_instance = importlib.import_module("scripts.utils").define_instance

    from medskills.core.volumes import write_nifti

    args = _arguments(job)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    autoencoder = define_instance(args, "mask_generation_autoencoder").to(device)
    autoencoder.load_state_dict(torch.load(args.trained_mask_generation_autoencoder_path, weights_only=True))
    checkpoint = torch.load(args.trained_mask_generation_diffusion_path, weights_only=False)
    diffusion_unet = define_instance(args, "mask_generation_diffusion").to(device)
    diffusion_unet.load_state_dict(checkpoint["unet_state_dict"])
    scheduler = define_instance(args, "mask_generation_noise_scheduler")
    for index in range(job.num_samples):
        _seed(job.random_seed + index)
        mask = ldm_conditional_sample_one_mask(
            autoencoder, diffusion_unet, scheduler, checkpoint["scale_factor"], job.anatomy_size, device,
            args.mask_generation_latent_shape, args.label_dict_remap_json, num_inference_steps=job.num_inference_steps,
            autoencoder_sliding_window_infer_size=list(job.sliding_window_size),
            autoencoder_sliding_window_infer_overlap=job.sliding_window_overlap,
        )
        labels = mask.squeeze().cpu().numpy().astype(np.int16)
        path = write_nifti(job.output_dir / mask_file_name(index), labels, np.diag([*MASK_SPACING_MM, 1.0]))
        logger.info("saved %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
