"""The options every ``synth`` command's request shares: the output folder, the seed, the run flags, the time limit."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field

from medskills.core.models import FrozenModel

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "ConfigFileRequest", "GenerateRequest"]

DEFAULT_TIMEOUT_SECONDS = 3600.0


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
