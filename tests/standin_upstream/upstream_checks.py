"""Apply NV-Generate-CTMR's own input checks to a batch of config_infer overrides; print one verdict per request.

Usage (cwd = the snapshot root, so upstream's ``./configs/...`` paths resolve):
``python upstream_checks.py REQUESTS.json``. For each override dict, in the order ``scripts/inference.py``
does it: merge onto ``configs/config_infer.json`` (later keys win), compare ``modality`` and call
``check_input_ct`` (1..7) or ``check_input_mr`` (8..20), then construct ``scripts.sample.LDMSampler``,
whose constructor maps the anatomy names through the label dictionary and checks the sliding-window
size and overlap. Networks are inert placeholders (the constructor only calls ``eval()`` and reads two
attributes); nothing touches CUDA. Any exception is a rejection, as it would end the upstream run.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

from scripts.sample import LDMSampler, check_input_ct, check_input_mr  # noqa: E402


class _InertNetwork:
    include_top_region_index_input = False
    num_class_embeds = None

    def eval(self) -> _InertNetwork:
        return self


def _upstream_verdict(overrides: dict, base: dict, environment: dict) -> str | None:
    """None when upstream accepts the request, else the exception it raised."""
    args = {**base, **overrides}
    try:
        if args["modality"] >= 1 and args["modality"] <= 7:
            check_input_ct(args["body_region"], args["anatomy_list"], environment["label_dict_json"],
                           args["output_size"], args["spacing"], args["controllable_anatomy_size"])
        elif args["modality"] >= 8 and args["modality"] <= 20:
            check_input_mr(args["body_region"], args["anatomy_list"], environment["label_dict_json"],
                           args["output_size"], args["spacing"], args["controllable_anatomy_size"])
        network = _InertNetwork()
        LDMSampler(
            args["body_region"], args["anatomy_list"], environment["all_mask_files_json"],
            environment["all_anatomy_size_conditions_json"], environment["all_mask_files_base_dir"],
            environment["label_dict_json"], environment["label_dict_remap_json"], network, network, network,
            None, 1.0, network, network, 1.0, None, "cpu", [4, 1, 1, 1], [4, 64, 64, 64], args["output_size"],
            "output", args["controllable_anatomy_size"], image_output_ext=args["image_output_ext"],
            label_output_ext=args["label_output_ext"], spacing=args["spacing"], modality=args["modality"],
            num_inference_steps=args["num_inference_steps"],
            mask_generation_num_inference_steps=args["mask_generation_num_inference_steps"], random_seed=None,
            autoencoder_sliding_window_infer_size=args["autoencoder_sliding_window_infer_size"],
            autoencoder_sliding_window_infer_overlap=args["autoencoder_sliding_window_infer_overlap"],
            cfg_guidance_scale=args.get("cfg_guidance_scale", 0.0),
        )
    except Exception as error:  # noqa: BLE001 - any exception ends the upstream run
        return f"{type(error).__name__}: {str(error)[:200]}"
    return None


def main() -> int:
    requests = json.loads(Path(sys.argv[1]).read_text())
    base = json.loads(Path("configs/config_infer.json").read_text())
    environment = json.loads(Path("configs/environment_rflow-ct.json").read_text())
    logging.disable(logging.CRITICAL)
    with contextlib.redirect_stdout(io.StringIO()):
        verdicts = [_upstream_verdict(overrides, base, environment) for overrides in requests]
    print(json.dumps(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
