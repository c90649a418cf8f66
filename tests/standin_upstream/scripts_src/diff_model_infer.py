"""Stand-in for ``python -m scripts.diff_model_infer`` (image only), contract of spec §A.2 / §I.

Reads ``-e`` / ``-c`` / ``-t`` like upstream (later files override earlier ones), takes the seed from
``diffusion_unet_inference.random_seed`` (there is no seed flag), and writes one int16 volume with
upstream's exact file name: MR (modality >= 8) is derived from a real T1 brain scan and is >= 0; CT
is derived from a real CT and clipped to [-1000, 1000] HU.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from scripts import _standin


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="stand-in diffusion model inference")
    parser.add_argument("-e", "--env_config", type=str, required=True)
    parser.add_argument("-c", "--model_config", type=str, required=True)
    parser.add_argument("-t", "--model_def", type=str, required=True)
    parser.add_argument("-g", "--num_gpus", type=int, default=1)
    return parser.parse_args()


def load_config(*paths: str) -> dict:
    merged: dict = {}
    for path in paths:
        merged.update(json.loads(Path(path).read_text()))
    return merged


def check_input_ct(size: list[int], spacing: list[float]) -> None:
    if size[0] != size[1] or size[0] not in (256, 384, 512) or size[2] not in (128, 256, 384, 512, 640, 768):
        raise ValueError(f"output_size {size} is not supported")
    if spacing[0] != spacing[1] or not 0.5 <= spacing[0] <= 3.0 or not 0.5 <= spacing[2] <= 5.0:
        raise ValueError(f"spacing {spacing} is not supported")


def make_volume(modality: int, size: list[int], spacing: list[float], switches: dict) -> np.ndarray:
    if modality >= 8:
        source = np.load(Path(_standin.SOURCE_DIR) / "mr_brain.npy")
        source_spacing = tuple(json.loads((Path(_standin.SOURCE_DIR) / "mr_source.json").read_text())["spacing_mm"])
        volume = _standin.resample_centred(source, source_spacing, size, spacing, fill=0).astype(np.float32) * 4.0
        volume = np.clip(volume, 0, None)
        if switches.get("has_negative_values"):
            volume[: size[0] // 4] -= 50.0
    else:
        ct, _, source_spacing = _standin.source_volumes()
        volume = _standin.resample_centred(ct.astype(np.float32), source_spacing, size, spacing, fill=-1000.0)
        volume = np.clip(volume, -1000, 1000)
    if switches.get("is_constant_image"):
        volume = np.full(size, 0.0 if modality >= 8 else -1000.0, dtype=np.float32)
    return volume.astype(np.int16)


def main() -> int:
    args = parse_args()
    switches = _standin.behaviour()
    config = load_config(args.env_config, args.model_config, args.model_def)
    inference = config["diffusion_unet_inference"]
    _standin.record_call(switches, {"entrypoint": "diff_model_infer", "config": config})
    if switches.get("sleep_seconds"):
        time.sleep(float(switches["sleep_seconds"]))
    if switches.get("exit_code"):
        print("Traceback (most recent call last):\n  stand-in failure\nRuntimeError: CUDA out of memory",
              file=sys.stderr, flush=True)
        return int(switches["exit_code"])
    for path in (f"{config['model_dir']}/{config['model_filename']}", config["trained_autoencoder_path"]):
        if not Path(path).is_file():
            raise FileNotFoundError(path)
    seed = inference["random_seed"] if "random_seed" in inference else random.randint(0, 99999)
    size, spacing, modality = inference["dim"], inference["spacing"], inference["modality"]
    if 1 <= modality <= 7:
        check_input_ct(size, spacing)
    _standin.log(f"Using cuda:0 of 1 with random seed: {seed}")
    volume = make_volume(modality, size, spacing, switches)
    if switches.get("writes_no_outputs"):
        return 0
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    name = (f"{config['output_prefix']}_seed{seed}_size{size[0]:d}x{size[1]:d}x{size[2]:d}"
            f"_spacing{spacing[0]:.2f}x{spacing[1]:.2f}x{spacing[2]:.2f}_{stamp}_rank0_modality{modality}.nii.gz")
    output_dir = Path(config["output_dir"])
    output_dir.mkdir(parents=True, exist_ok=True)
    import nibabel as nib

    nib.save(nib.Nifti1Image(volume, np.diag([*spacing, 1.0])), str(output_dir / name))
    print(f"Saved {output_dir / name}.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
