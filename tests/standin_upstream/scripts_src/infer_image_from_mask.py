"""Stand-in for ``python -m scripts.infer_image_from_mask`` (CT from a user mask), spec §A.3 / §I.

Same flags; returns 2 with ``[error] file not found`` when an input is missing; prints ``[validate]``
warnings like upstream (never errors); writes ``<mask stem>_<YYYYmmdd_HHMMSS_ffffff>_image.nii.gz`` only
(no label). The image is the real CT when the mask is on its grid, else HU painted per label.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from scripts import _standin

LUNG_IDS = (28, 29, 30, 31, 32)
BONE_IDS = tuple(range(33, 57)) + tuple(range(63, 98)) + (120, 122, 127)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="stand-in CT from mask")
    parser.add_argument("--mask", required=True)
    parser.add_argument("-t", "--config-file", required=True)
    parser.add_argument("-e", "--environment-file", required=True)
    parser.add_argument("-i", "--inference-file", required=True)
    parser.add_argument("--random-seed", type=int, default=0)
    return parser.parse_args()


def paint(labels: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.where(labels == 0, -1000.0, 40.0).astype(np.float32)
    image[labels == 200] = -60.0
    image[np.isin(labels, LUNG_IDS)] = -850.0
    image[np.isin(labels, BONE_IDS)] = 700.0
    return image + rng.normal(0, 10, size=labels.shape).astype(np.float32)


def main() -> int:
    args = parse_args()
    switches = _standin.behaviour()
    for path in (args.mask, args.config_file, args.environment_file, args.inference_file):
        if not Path(path).is_file():
            print(f"[error] file not found: {path}", file=sys.stderr, flush=True)
            return 2
    config = {**json.loads(Path(args.environment_file).read_text()), **json.loads(Path(args.config_file).read_text()),
              **json.loads(Path(args.inference_file).read_text())}
    _standin.record_call(switches, {"entrypoint": "infer_image_from_mask", "config": config, "mask": args.mask})
    if switches.get("sleep_seconds"):
        time.sleep(float(switches["sleep_seconds"]))
    if switches.get("exit_code"):
        print("Traceback (most recent call last):\nRuntimeError: stand-in failure", file=sys.stderr, flush=True)
        return int(switches["exit_code"])
    import nibabel as nib

    mask_image = nib.load(args.mask)
    labels = np.rint(np.asarray(mask_image.dataobj)).astype(np.int64)
    foreign = sorted(set(np.unique(labels).tolist()) - set(range(133)) - {200})
    if foreign:
        print(f"[validate] WARNING: labels outside the MAISI vocabulary: {foreign}", file=sys.stderr)
    if not (labels == 200).any():
        print("[validate] WARNING: body label 200 is absent", file=sys.stderr)
    for step in range(1, 5):
        print(f"[step {step}/4]", file=sys.stderr, flush=True)
    ct, _, _ = _standin.source_volumes()
    if ct.shape == labels.shape:
        image = np.where(labels == 0, -1000.0, np.clip(ct.astype(np.float32), -1000, 1000)).astype(np.float32)
    else:
        image = paint(labels, args.random_seed)
    if switches.get("is_constant_image"):
        image = np.full(labels.shape, -1000.0, dtype=np.float32)
    if switches.get("writes_no_outputs"):
        return 0
    output_dir = Path(config["output_dir"])
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(args.mask).name.replace(".nii.gz", "").replace(".nii", "")
    out_path = output_dir / f"{stem}_{_standin.timestamp()}_image.nii.gz"
    nib.save(nib.Nifti1Image(image.astype(np.float32), mask_image.affine), str(out_path))
    print(f"\n[done] generated image saved to: {out_path}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
