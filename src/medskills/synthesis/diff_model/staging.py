"""The image-only entry point ``python -m scripts.diff_model_infer``: settings, staging, output names.

Used by MR-brain synthesis and CT image-only synthesis. Upstream reads one ``diffusion_unet_inference``
block and has no seed flag, so the seed is staged into that block. It writes one int16 volume named
``{prefix}_seed{seed}_size{X}x{Y}x{Z}_spacing{sx:.2f}x{sy:.2f}x{sz:.2f}_{YYYYmmddHHMMSS}_rank{r}_modality{m}.nii.gz``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field

from medskills.core.errors import EnvironmentProblem
from medskills.core.io import write_text_atomic
from medskills.core.models import FrozenModel
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.nv_generate.request import INFERENCE_BLOCK

__all__ = [
    "DIFF_MODEL_ENTRYPOINT",
    "INFERENCE_BLOCK",
    "DiffModelFacts",
    "DiffModelInference",
    "InferenceDefaults",
    "StagedDiffModel",
    "checkpoint_paths",
    "diff_model_argv",
    "diff_model_facts",
    "modality_ids",
    "output_name_pattern",
    "packaged_commit",
    "read_inference_defaults",
    "scan_diff_model_outputs",
    "stage_diff_model",
]

DIFF_MODEL_ENTRYPOINT = "scripts.diff_model_infer"
# Environment-file keys holding paths that upstream resolves against its working directory.
_ENVIRONMENT_PATH_KEYS = (
    "data_base_dir", "embedding_base_dir", "json_data_list", "model_dir", "trained_autoencoder_path",
    "existing_ckpt_filepath", "modality_mapping_path",
)


class DiffModelInference(FrozenModel):
    """The ``diffusion_unet_inference`` block as upstream reads it (dim and spacing in voxel-axis order)."""

    dim: tuple[int, int, int]
    spacing: tuple[float, float, float] = Field(description="Voxel spacing in mm, axes 0, 1, 2.")
    top_region_index: tuple[int, int, int, int]
    bottom_region_index: tuple[int, int, int, int]
    random_seed: int
    num_inference_steps: int
    modality: int
    cfg_guidance_scale: float


@dataclass(frozen=True)
class DiffModelFacts:
    """Packaged upstream facts for one version: config file names and the shipped defaults."""

    version: str
    model_config: str
    environment: str
    network: str
    inference_defaults: DiffModelInference


class InferenceDefaults(FrozenModel):
    """The defaults a request starts from, and where they were read."""

    inference: DiffModelInference
    source: str = Field(description="The upstream config file read, or 'packaged facts at <commit>'.")


class StagedDiffModel(FrozenModel):
    """Config copies written for one run; upstream reads these instead of its own files."""

    environment_path: Path
    model_config_path: Path
    network_config_path: Path
    output_dir: Path
    output_prefix: str
    inference: DiffModelInference


@cache
def _facts_document() -> dict[str, Any]:
    text = resources.files("medskills").joinpath("data", "synthesis", "diff_model_upstream.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def modality_ids() -> dict[str, int]:
    """Upstream ``configs/modality_mapping.json``: modality name -> id."""
    return {str(name): int(value) for name, value in _facts_document()["modality_ids"].items()}


def packaged_commit() -> str:
    """The upstream commit the packaged facts were read from."""
    return str(_facts_document()["source"]["commit"])


def diff_model_facts(version: str) -> DiffModelFacts:
    """Config names and shipped defaults of ``version`` (``rflow-mr-brain``, ``rflow-ct``, ``ddpm-ct``)."""
    entry = _facts_document()["versions"][version]
    return DiffModelFacts(
        version=version, model_config=entry["model_config"], environment=entry["environment"],
        network=entry["network"], inference_defaults=DiffModelInference.model_validate(entry["inference_defaults"]),
    )


def read_inference_defaults(collector: PreflightCollector, facts: DiffModelFacts,
                            upstream_root: Path | None) -> InferenceDefaults:
    """Read the inference block of the upstream config actually present, else the packaged facts.

    A config that is present but not valid JSON with the expected block is a readiness error on
    ``collector`` (the clone must be restored before a run); the packaged facts stand in meanwhile.
    """
    packaged = InferenceDefaults(inference=facts.inference_defaults,
                                 source=f"packaged facts at upstream commit {packaged_commit()[:7]}")
    path = None if upstream_root is None else Path(upstream_root) / facts.model_config
    if path is None or not path.is_file():
        return packaged
    try:
        block = json.loads(path.read_text(encoding="utf-8"))[INFERENCE_BLOCK]
        merged = {**facts.inference_defaults.model_dump(), **block}
        return InferenceDefaults(inference=DiffModelInference.model_validate(merged), source=str(path))
    except (OSError, ValueError, KeyError, TypeError) as err:
        collector.error("upstream_config_unreadable", f"{path} is not a usable upstream model config "
                        f"({type(err).__name__}: {err}).", field=str(path),
                        fix="restore it: `git -C <NV_GENERATE_ROOT> checkout -- configs`", blocks_request=False)
        return packaged


def _absolute_environment(document: dict[str, Any], upstream_root: Path) -> dict[str, Any]:
    staged = dict(document)
    for key in _ENVIRONMENT_PATH_KEYS:
        value = staged.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            staged[key] = str((upstream_root / value).resolve())
    return staged


def _read_environment(facts: DiffModelFacts, upstream_root: Path) -> dict[str, Any]:
    path = Path(upstream_root) / facts.environment
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise EnvironmentProblem(f"cannot read {path}: {err}. Restore it with "
                                 "`git -C <NV_GENERATE_ROOT> checkout -- configs`.") from err
    if not isinstance(document, dict):
        raise EnvironmentProblem(f"{path} must hold a JSON object. Restore it from the upstream clone.")
    return _absolute_environment(document, Path(upstream_root).resolve())


def checkpoint_paths(facts: DiffModelFacts, upstream_root: Path) -> tuple[Path, Path]:
    """The autoencoder and UNet files ``diff_model_infer`` loads, as the staged environment names them.

    Upstream loads ``trained_autoencoder_path`` and ``f"{model_dir}/{model_filename}"``; both are read
    from the clone's own environment file (so a clone whose file names another checkpoint is checked
    for that one), made absolute exactly as staging does.

    Raises:
        EnvironmentProblem: the environment file is unreadable or lacks one of those keys.
    """
    environment = _read_environment(facts, upstream_root)
    missing = [key for key in ("trained_autoencoder_path", "model_dir", "model_filename")
               if not isinstance(environment.get(key), str)]
    if missing:
        raise EnvironmentProblem(f"{Path(upstream_root) / facts.environment} lacks {missing}; upstream cannot "
                                 "find its checkpoints. Restore it from the upstream clone.")
    return (Path(environment["trained_autoencoder_path"]),
            Path(f"{environment['model_dir']}/{environment['model_filename']}"))


def stage_diff_model(
    facts: DiffModelFacts, *, upstream_root: Path, staged_dir: Path, output_dir: Path, output_prefix: str,
    inference: DiffModelInference,
) -> StagedDiffModel:
    """Write the environment and model config copies with absolute paths and the rendered inference block.

    The upstream clone is only read. Relative paths are made absolute against ``upstream_root`` so the
    staged files do not depend on the working directory.
    """
    upstream_root = Path(upstream_root).resolve()
    environment = _read_environment(facts, upstream_root)
    environment.update(output_dir=str(output_dir), output_prefix=output_prefix)
    model_config = json.loads((upstream_root / facts.model_config).read_text(encoding="utf-8"))
    block = inference.model_dump(mode="json")
    model_config[INFERENCE_BLOCK] = {**model_config.get(INFERENCE_BLOCK, {}), **block}
    environment_path = staged_dir / Path(facts.environment).name
    model_config_path = staged_dir / Path(facts.model_config).name
    write_text_atomic(environment_path, json.dumps(environment, indent=2) + "\n")
    write_text_atomic(model_config_path, json.dumps(model_config, indent=2) + "\n")
    return StagedDiffModel(
        environment_path=environment_path, model_config_path=model_config_path,
        network_config_path=upstream_root / facts.network, output_dir=output_dir, output_prefix=output_prefix,
        inference=inference,
    )


def diff_model_argv(python: str, staged: StagedDiffModel, *, num_gpus: int = 1) -> list[str]:
    """The upstream command line; run it with the upstream root as working directory."""
    argv = [python, "-m", DIFF_MODEL_ENTRYPOINT, "-e", str(staged.environment_path), "-c",
            str(staged.model_config_path), "-t", str(staged.network_config_path)]
    return argv + (["-g", str(num_gpus)] if num_gpus != 1 else [])


def output_name_pattern(prefix: str, inference: DiffModelInference, *, rank: int = 0) -> re.Pattern[str]:
    """The exact file name upstream writes for ``inference`` on ``rank`` (any timestamp)."""
    x, y, z = inference.dim
    sx, sy, sz = inference.spacing
    name = (f"{re.escape(prefix)}_seed{inference.random_seed + rank}_size{x}x{y}x{z}"
            f"_spacing{sx:.2f}x{sy:.2f}x{sz:.2f}_(?P<timestamp>\\d{{14}})_rank{rank}_modality{inference.modality}")
    return re.compile(f"^{name}\\.nii\\.gz$")


def scan_diff_model_outputs(staged: StagedDiffModel, *, started_at: datetime) -> list[Path]:
    """Files in the output folder with the exact expected name, written since ``started_at``.

    The one-second slack matches upstream's one-second timestamp resolution.
    """
    pattern = output_name_pattern(staged.output_prefix, staged.inference)
    threshold = started_at.timestamp() - 1.0
    found = [
        path for path in sorted(staged.output_dir.iterdir())
        if path.is_file() and pattern.match(path.name) and path.stat().st_size > 0
        and path.stat().st_mtime >= threshold
    ]
    return found
