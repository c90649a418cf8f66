"""Cost estimates from the upstream performance table and the --yes thresholds."""

from __future__ import annotations

from medskills.synthesis.nv_generate.cost import estimate_ct_cost
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings


def _settings(**changes: object) -> InferenceSettings:
    values = dict(num_output_samples=1, body_region=["chest"], anatomy_list=["lung tumor"],
                  controllable_anatomy_size=[], num_inference_steps=30, mask_generation_num_inference_steps=1000,
                  output_size=(256, 256, 256), spacing_mm=(1.5, 1.5, 2.0), image_output_ext=".nii.gz",
                  label_output_ext=".nii.gz", autoencoder_sliding_window_infer_size=(64, 64, 64),
                  autoencoder_sliding_window_infer_overlap=0.25, autoencoder_tp_num_splits=4, modality=1,
                  cfg_guidance_scale=0.0)
    return InferenceSettings(**{**values, **changes})


def test_measured_preset_uses_its_row():
    cost = estimate_ct_cost(_settings(), CTVersion.RFLOW_CT)
    assert cost.peak_vram_gb == 22.7 and cost.wall_seconds == 25 + 3 + 2 and not cost.needs_confirmation
    assert cost.disk_mb == round(256**3 * 4 * 2 / 1e6, 1)


def test_path_a_adds_mask_diffusion_and_guidance_doubles_diffusion():
    base = estimate_ct_cost(_settings(), CTVersion.RFLOW_CT).wall_seconds
    path_a = estimate_ct_cost(_settings(controllable_anatomy_size=[("liver", 0.5)]), CTVersion.RFLOW_CT).wall_seconds
    guided = estimate_ct_cost(_settings(cfg_guidance_scale=2.0), CTVersion.RFLOW_CT).wall_seconds
    assert path_a == base + 80 and guided == base + 3


def test_large_or_slow_runs_need_confirmation():
    big = estimate_ct_cost(_settings(output_size=(512, 512, 768), spacing_mm=(0.75, 0.75, 0.667),
                                     autoencoder_sliding_window_infer_size=(80, 80, 96)), CTVersion.RFLOW_CT)
    assert big.needs_confirmation and any("VRAM" in r for r in big.reasons)
    slow = estimate_ct_cost(_settings(num_output_samples=20, num_inference_steps=300), CTVersion.RFLOW_CT)
    assert slow.needs_confirmation and any("wall" in r for r in slow.reasons)


def test_ddpm_scales_the_measured_1000_step_time():
    cost = estimate_ct_cost(_settings(num_inference_steps=1000), CTVersion.DDPM_CT)
    assert cost.wall_seconds == 25 + (83 - 2) + 2 and cost.needs_confirmation is False
