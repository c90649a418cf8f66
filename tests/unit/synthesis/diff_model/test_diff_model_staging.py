"""diff_model_infer contract: exact output names, staging with absolute paths, outputs filtered by time."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from medskills.core.preflight import PreflightCollector
from medskills.synthesis.diff_model.staging import (
    diff_model_argv, diff_model_facts, output_name_pattern, read_inference_defaults, scan_diff_model_outputs,
    stage_diff_model,
)

FACTS = diff_model_facts("rflow-mr-brain")


def _upstream(tmp_path: Path) -> Path:
    root = tmp_path / "upstream"
    (root / "configs").mkdir(parents=True)
    (root / FACTS.environment).write_text(json.dumps({"model_dir": "./models", "model_filename": "m.pt",
                                                      "trained_autoencoder_path": "models/a.pt",
                                                      "output_dir": "./output", "output_prefix": "unet_3d"}))
    (root / FACTS.model_config).write_text(json.dumps({"diffusion_unet_train": {"lr": 1},
                                                       "diffusion_unet_inference": {"cfg_guidance_scale": 5}}))
    return root


def test_output_name_pattern_matches_upstream_names_only() -> None:
    pattern = output_name_pattern("mr", FACTS.inference_defaults)
    good = "mr_seed1234_size256x256x128_spacing0.94x0.94x1.36_20260101120000_rank0_modality9.nii.gz"
    assert pattern.match(good)
    assert not pattern.match(good.replace("seed1234", "seed1"))
    assert not pattern.match(good.replace("modality9", "modality10"))
    assert not pattern.match(good.replace(".nii.gz", ".nii"))
    assert not pattern.match("x" + good)


def test_defaults_come_from_the_present_config_else_packaged(tmp_path: Path) -> None:
    assert read_inference_defaults(PreflightCollector(), FACTS, None).inference.cfg_guidance_scale == 2
    present = read_inference_defaults(PreflightCollector(), FACTS, _upstream(tmp_path))
    assert present.inference.cfg_guidance_scale == 5 and present.source.endswith(Path(FACTS.model_config).name)


@pytest.mark.parametrize("content", ["{", '{"diffusion_unet_inference": {"dim": "x"}}', "[]"],
                         ids=["not-json", "wrong-type", "no-block"])
def test_a_broken_upstream_config_is_a_readiness_error_and_the_packaged_defaults_stand_in(
        tmp_path: Path, content: str) -> None:
    root = _upstream(tmp_path)
    (root / FACTS.model_config).write_text(content)
    collector = PreflightCollector()
    defaults = read_inference_defaults(collector, FACTS, root)
    assert defaults.source.startswith("packaged facts")
    [error] = collector.report().errors
    assert error.code == "upstream_config_unreadable" and not error.blocks_request
    assert "not a usable upstream model config" in error.message and "checkout -- configs" in error.fix


def test_staging_makes_paths_absolute_and_keeps_other_blocks(tmp_path: Path) -> None:
    root = _upstream(tmp_path)
    staged = stage_diff_model(FACTS, upstream_root=root, staged_dir=tmp_path / "staged", output_dir=tmp_path / "out",
                              output_prefix="p", inference=FACTS.inference_defaults)
    environment = json.loads(staged.environment_path.read_text())
    assert environment["model_dir"] == str((root / "models").resolve())
    assert environment["trained_autoencoder_path"] == str((root / "models" / "a.pt").resolve())
    assert environment["output_dir"] == str(tmp_path / "out") and environment["output_prefix"] == "p"
    model = json.loads(staged.model_config_path.read_text())
    assert model["diffusion_unet_train"] == {"lr": 1}
    assert model["diffusion_unet_inference"]["random_seed"] == 1234
    argv = diff_model_argv("python", staged)
    assert argv[:3] == ["python", "-m", "scripts.diff_model_infer"] and "-g" not in argv
    assert diff_model_argv("python", staged, num_gpus=2)[-2:] == ["-g", "2"]
    assert json.loads((root / FACTS.environment).read_text())["output_dir"] == "./output"


def test_scan_ignores_stale_and_misnamed_files(tmp_path: Path) -> None:
    root = _upstream(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    staged = stage_diff_model(FACTS, upstream_root=root, staged_dir=tmp_path / "staged", output_dir=out,
                              output_prefix="p", inference=FACTS.inference_defaults)
    name = "p_seed1234_size256x256x128_spacing0.94x0.94x1.36_20260101120000_rank0_modality9.nii.gz"
    fresh, stale, other = out / name, out / name.replace("2026", "2025"), out / "p_other.nii.gz"
    for path in (fresh, stale, other):
        path.write_bytes(b"x")
    os.utime(stale, (0, 0))
    started = datetime.now(timezone.utc)
    assert scan_diff_model_outputs(staged, started_at=started) == [fresh]
