"""Stage the upstream configs into ``OUT/_staged_configs`` and build the exact upstream command.

The upstream clone is never modified: its config_infer.json and environment file are copied, the
validated settings applied, and every path made absolute (weights under the clone, datasets under
the validated data root, labels dictionaries, output folder). The ``$@`` reference keys stay, since
upstream resolves the mask networks through them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import JsonValue

from medskills.core.errors import EnvironmentProblem
from medskills.core.io import write_text_atomic
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings

__all__ = ["CUDA_ALLOC_CONF", "LOG_DIR_NAME", "STAGED_DIR_NAME", "StagedRun", "stage_ct_configs"]

STAGED_DIR_NAME = "_staged_configs"
LOG_DIR_NAME = "logs"
CUDA_ALLOC_CONF = "max_split_size_mb:128,expandable_segments:True"
_DATASETS_FOLDER = "datasets"
_ANATOMY_SIZE_KEY = "all_anatomy_size_conditions_json"
_ANATOMY_SIZE_FILE = "datasets/all_anatomy_size_conditions.json"


@dataclass(frozen=True)
class StagedRun:
    """The staged files and the values written into them."""

    inference_path: Path
    environment_path: Path
    network_path: Path
    inference_config: dict[str, JsonValue]
    environment_config: dict[str, JsonValue]
    corrections: tuple[str, ...] = ()


def _absolute_environment(
    environment: dict[str, JsonValue], *, root: Path, data_root: Path, output_dir: Path
) -> tuple[dict[str, JsonValue], list[str]]:
    """Absolute paths for every entry; returns the corrections made to known upstream mistakes."""
    staged: dict[str, JsonValue] = {}
    corrections = []
    for key, value in environment.items():
        if not isinstance(value, str):
            staged[key] = value
        elif key == _ANATOMY_SIZE_KEY and value != _ANATOMY_SIZE_FILE and value.endswith("all_anatomy_size_conditions.json"):
            staged[key] = str(data_root / _ANATOMY_SIZE_FILE)
            corrections.append(f"{key}: {value!r} -> {_ANATOMY_SIZE_FILE!r} (the file the downloader writes)")
        elif _DATASETS_FOLDER in PurePosixPath(value).parts:
            parts = PurePosixPath(value).parts
            staged[key] = str(data_root.joinpath(*parts[parts.index(_DATASETS_FOLDER):]))
        elif key.startswith("trained_") or key.startswith("label_dict") or key == "model_dir":
            staged[key] = str((root / value).resolve())
        else:
            staged[key] = value
    staged["output_dir"] = str(output_dir)
    return staged, corrections


def stage_ct_configs(
    version: CTVersion, settings: InferenceSettings, *, root: Path, data_root: Path,
    base_config: dict[str, JsonValue], output_dir: Path,
) -> StagedRun:
    """Write the staged inference and environment configs; return their paths and contents.

    Raises:
        EnvironmentProblem: the upstream environment file cannot be read.
    """
    staged_dir = output_dir / STAGED_DIR_NAME
    inference = {**base_config, **settings.as_config_values(), "output_dir": str(output_dir)}
    environment_source = root / "configs" / f"environment_{version.value}.json"
    try:
        environment = json.loads(environment_source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise EnvironmentProblem(f"cannot read {environment_source}: {err}. Restore the upstream clone.") from err
    staged_environment, corrections = _absolute_environment(environment, root=root, data_root=data_root,
                                                            output_dir=output_dir)
    inference_path = staged_dir / "config_infer.json"
    environment_path = staged_dir / environment_source.name
    write_text_atomic(inference_path, json.dumps(inference, indent=2) + "\n")
    write_text_atomic(environment_path, json.dumps(staged_environment, indent=2) + "\n")
    return StagedRun(
        inference_path=inference_path, environment_path=environment_path,
        network_path=(root / "configs" / f"config_network_{version.network}.json").resolve(),
        inference_config=inference, environment_config=staged_environment, corrections=tuple(corrections),
    )
