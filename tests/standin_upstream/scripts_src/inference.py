"""Stand-in for ``python -m scripts.inference`` (paired CT image + label), contract of spec §A.1 / §I.

Calls the real ``scripts/download_model_data.py`` (copied from the snapshot) exactly as upstream does,
so a missing weight or dataset file fails here as it would there (offline: an exception).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from scripts import _standin
from scripts.download_model_data import download_model_data

REFERENCE_KEYS = ("controlnet", "diffusion_unet", "autoencoder", "mask_generation_autoencoder",
                  "mask_generation_diffusion")
CONTROLLABLE = ["gallbladder", "liver", "stomach", "pancreas", "colon", "lung tumor", "pancreatic tumor",
                "hepatic tumor", "colon cancer primaries", "bone lesion"]
TUMORS = CONTROLLABLE[5:]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="stand-in paired CT generation")
    parser.add_argument("-e", "--environment-file", default="./configs/environment.json")
    parser.add_argument("-t", "--config-file", default="./configs/config_maisi.json")
    parser.add_argument("-i", "--inference-file", default="./configs/config_infer.json")
    parser.add_argument("-x", "--extra-config-file", default=None)
    parser.add_argument("-s", "--random-seed", default=None)
    parser.add_argument("--version", default="rflow-ct")
    return parser.parse_args()


def check_input(config: dict, label_dict: dict) -> None:
    """Upstream-like validation of geometry, anatomy names and controllable sizes (ValueError)."""
    size, spacing = config["output_size"], config["spacing"]
    if size[0] != size[1] or size[0] not in (256, 384, 512) or size[2] not in (128, 256, 384, 512, 640, 768):
        raise ValueError(f"output_size {size} is not supported")
    if spacing[0] != spacing[1] or not 0.5 <= spacing[0] <= 3.0 or not 0.5 <= spacing[2] <= 5.0:
        raise ValueError(f"spacing {spacing} is not supported")
    if size[0] * spacing[0] < 256:
        raise ValueError(f"field of view {size[0] * spacing[0]} mm is below 256 mm")
    controllable = config.get("controllable_anatomy_size", [])
    if controllable is None:
        return
    if len(controllable) > 10:
        raise ValueError("controllable_anatomy_size has more than 10 entries")
    names = [name for name, _ in controllable]
    if len(set(names)) != len(names) or sum(name in TUMORS for name in names) > 1:
        raise ValueError("controllable_anatomy_size repeats an organ or lists more than one tumor")
    for name, scale in controllable:
        if name not in CONTROLLABLE:
            raise ValueError(f"{name!r} is not controllable")
        if scale != -1 and not 0 <= scale <= 1:
            raise ValueError(f"size of {name!r} must be in [0,1] or -1")
    if controllable:
        return  # like upstream: body_region and anatomy_list are not checked in Path A
    for region in config["body_region"]:
        if region not in ("head", "chest", "thorax", "abdomen", "pelvis", "lower"):
            raise ValueError(f"body_region {region!r} is not supported")
    for name in config["anatomy_list"]:
        if name not in label_dict:
            raise ValueError(f"anatomy {name!r} is not in the label dictionary")


def generate_pair(config: dict, label_dict: dict, settings: dict, ordinal_names: list[str]) -> tuple:
    """A CT/label pair derived from the real scan: requested anatomies kept as ordinals, absent ones painted."""
    ct, labels, source_spacing = _standin.source_volumes()
    size, spacing = config["output_size"], config["spacing"]
    image = _standin.resample_centred(ct.astype(np.float32), source_spacing, size, spacing, fill=-1000.0)
    maisi = _standin.resample_centred(labels, source_spacing, size, spacing, fill=0)
    output = np.zeros(size, dtype=np.float32)
    dropped = set(settings.get("drop_output_label_ids", []))
    for ordinal, name in enumerate(ordinal_names, start=1):
        if ordinal in dropped:
            continue
        region = maisi == label_dict[name]
        if region.any():
            output[region] = ordinal
        else:
            _standin.paint_blob(output, image, ordinal, ordinal)
    np.clip(image, -1000.0, 1000.0, out=image)
    if settings.get("is_constant_image"):
        image[...] = 0.0
    return image, output


def main() -> int:
    args = parse_args()
    settings = _standin.behaviour()
    root_dir = _standin.data_root()
    _standin.log(f"Data directory: {root_dir}")
    download_model_data(args.version, root_dir)
    environment = _standin.load_environment(args.environment_file, root_dir)
    config = {**environment}
    for path in (args.config_file, args.inference_file, args.extra_config_file):
        if path:
            config.update(json.loads(Path(path).read_text()))
    for key in REFERENCE_KEYS:
        if not str(config[key]).startswith("$@"):
            raise KeyError(f"reference key {key!r} does not hold a '$@' reference")
    label_dict = json.loads(Path(config["label_dict_json"]).read_text())
    _standin.record_call(settings, {"config": config, "data_root": root_dir})
    for key, value in config.items():
        _standin.log(f"{key}: {value}")
    check_input(config, label_dict)
    controllable = config.get("controllable_anatomy_size", [])
    if controllable:
        Path(config["all_anatomy_size_conditions_json"]).read_text()
        names = [name for name, _ in controllable]
    else:
        if not Path(config["all_mask_files_base_dir"]).is_dir():
            raise ValueError(f"Please download {config['all_mask_files_base_dir']}.zip first")
        Path(config["all_mask_files_json"]).read_text()
        names = list(dict.fromkeys(config["anatomy_list"]))
    time.sleep(float(settings.get("sleep_seconds", 0)))
    if settings.get("exit_code", 0):
        print("Traceback (most recent call last):\n  stand-in failure on purpose\nRuntimeError: boom",
              file=sys.stderr, flush=True)
        return int(settings["exit_code"])
    output_dir = Path(config["output_dir"])
    output_dir.mkdir(parents=True, exist_ok=True)
    for index in range(int(settings.get("quality_check_failures", 0))):
        _standin.log(f"Generated image/label pair did not pass quality check for label 'liver' "
                     f"failed: median value {1200 + index} is out of range")
    if settings.get("writes_stale_files"):
        write_stale_files(output_dir, config)
    for _ in range(int(config["num_output_samples"])):
        if settings.get("writes_no_outputs"):
            break
        image, labels = generate_pair(config, label_dict, settings, names)
        stamp = _standin.timestamp()
        _standin.save_nifti(output_dir / f"sample_{stamp}_image{config['image_output_ext']}", image, config["spacing"])
        _standin.save_nifti(output_dir / f"sample_{stamp}_label{config['label_output_ext']}", labels, config["spacing"])
    _standin.log("MAISI image/mask generation finished")
    print(f"Peak GPU memory usage: {float(settings.get('peak_gpu_memory_gb', 12.34)):.2f} GB", flush=True)
    return 0


def write_stale_files(output_dir: Path, config: dict) -> None:
    """Files a reused output folder could hold: an old pair (mtime a day ago) and a misnamed volume."""
    size = [8, 8, 8]
    old = output_dir / "sample_20200101_000000_000000_image.nii.gz"
    old_label = output_dir / "sample_20200101_000000_000000_label.nii.gz"
    _standin.save_nifti(old, np.full(size, 5.0), config["spacing"])
    _standin.save_nifti(old_label, np.full(size, 1.0), config["spacing"])
    day_ago = time.time() - 86400
    for path in (old, old_label):
        os.utime(path, (day_ago, day_ago))
    _standin.save_nifti(output_dir / "image_extra.nii.gz", np.zeros(size), config["spacing"])


if __name__ == "__main__":
    sys.exit(main())
