"""Stand-in for upstream ``scripts.sample_mask.ldm_conditional_sample_one_mask`` (spec §A.4 / §I).

Same signature; returns a [1, 1, 256, 256, 256] long tensor of MAISI ids (body 200) at an implied
1.5 mm spacing, derived from the real CT's converted labels, with the requested tumor painted in.
Switches: ``exit_code`` raises, ``writes_no_outputs`` ends the process without output,
``drop_output_label_ids`` removes ids, ``sleep_seconds`` delays.
"""

from __future__ import annotations

import os
import time

import numpy as np

from scripts import _standin

MASK_SIZE = [256, 256, 256]
MASK_SPACING = [1.5, 1.5, 1.5]
TUMOR_IDS = [23, 24, 26, 27, 128]  # slots 5..9 of the anatomy-size vector


def ldm_conditional_sample_one_mask(
    autoencoder, diffusion_unet, noise_scheduler, scale_factor, anatomy_size, device, latent_shape,
    label_dict_remap_json, num_inference_steps=1000, autoencoder_sliding_window_infer_size=[96, 96, 96],
    autoencoder_sliding_window_infer_overlap=0.6667,
):
    import torch

    switches = _standin.behaviour()
    _standin.record_call(switches, {"entrypoint": "sample_mask", "anatomy_size": list(anatomy_size),
                                    "num_inference_steps": num_inference_steps, "latent_shape": latent_shape})
    if switches.get("sleep_seconds"):
        time.sleep(float(switches["sleep_seconds"]))
    if switches.get("exit_code"):
        raise RuntimeError("stand-in mask generation failed (CUDA out of memory)")
    if switches.get("writes_no_outputs"):
        os._exit(0)
    if len(anatomy_size) != 10:
        raise ValueError("anatomy_size must have 10 slots")
    ct, labels, spacing = _standin.source_volumes()
    mask = _standin.resample_centred(labels, spacing, MASK_SIZE, MASK_SPACING, fill=0).astype(np.int64)
    body = _standin.resample_centred(ct.astype(np.float32), spacing, MASK_SIZE, MASK_SPACING, fill=-1000.0) > -800
    mask[(mask == 0) & body] = 200
    tumors = [TUMOR_IDS[i] for i, size in enumerate(anatomy_size[5:10]) if float(size) != -1.0]
    for ordinal, tumor_id in enumerate(tumors):
        image = np.zeros(mask.shape, dtype=np.float32)
        _standin.paint_blob(mask, image, tumor_id, ordinal)
    for label_id in switches.get("drop_output_label_ids", []):
        mask[mask == label_id] = 0
    return torch.from_numpy(mask).unsqueeze(0).unsqueeze(0)
