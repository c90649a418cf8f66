"""The options every ``synth`` command's request shares: the output folder, the seed, the run flags, the time limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import Field

from medskills.core.io import read_json_object
from medskills.core.models import FrozenModel

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "INFERENCE_BLOCK", "ConfigFileRequest", "GenerateRequest", "read_override_file"]

DEFAULT_TIMEOUT_SECONDS = 3600.0
INFERENCE_BLOCK = "diffusion_unet_inference"  # the block of upstream's diffusion model configs


class GenerateRequest(FrozenModel):
    """One ``synth`` invocation: what ``core.run.RunOptions`` reads plus the seed and the upstream time limit."""

    output_dir: Path
    random_seed: int = 0
    is_preflight_only: bool = False
    is_cost_confirmed: bool = Field(default=False, description="--yes: run even when the estimate is expensive.")
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)


class ConfigFileRequest(GenerateRequest):
    """A command whose positional argument is an override JSON file or the word ``default`` (``config_path`` None)."""

    config_path: Path | None = None

    @classmethod
    def from_cli(cls, config: str, **options: object) -> Self:
        """Build from the positional ``CONFIG.json|default`` argument and the options."""
        return cls.model_validate({"config_path": None if config == "default" else Path(config), **options})


def read_override_file(path: Path, *, allowed_keys: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """Read an override JSON (flat, or nested under ``diffusion_unet_inference``); ``_`` keys are comments.

    Returns:
        The allowed keys given, and the names of every other key (preflight reports them).

    Raises:
        UsageError: the file is missing, not JSON, or not an object.
    """
    document = read_json_object(path, what="config", fallback_hint="the word 'default'")
    nested = document.get(INFERENCE_BLOCK)
    if isinstance(nested, dict) and not [key for key in document if key != INFERENCE_BLOCK and not key.startswith("_")]:
        document = nested
    keys = [str(key) for key in document if not str(key).startswith("_")]
    return ({key: document[key] for key in keys if key in allowed_keys},
            [key for key in keys if key not in allowed_keys])
