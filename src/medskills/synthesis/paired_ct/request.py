"""What one ``synth ct`` run is asked to do: the command-line request and the override file.

The override file is the user's JSON on top of upstream's ``configs/config_infer.json``; preflight
turns it into :class:`~medskills.synthesis.nv_generate.ct_inference.InferenceSettings`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, JsonValue, ValidationError

from medskills.core.errors import UsageError
from medskills.core.io import read_json_object
from medskills.core.models import FrozenModel
from medskills.synthesis.nv_generate.ct_inference import CTVersion

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "CTRunRequest", "load_overrides"]

DEFAULT_TIMEOUT_SECONDS = 3600.0


class CTRunRequest(FrozenModel):
    """One ``synth ct`` invocation. ``config_path`` None means upstream's defaults (``default``)."""

    config_path: Path | None
    output_dir: Path
    random_seed: int = 0
    version: CTVersion = CTVersion.RFLOW_CT
    is_preflight_only: bool = False
    is_cost_confirmed: bool = Field(default=False, description="--yes: run even when the estimate is expensive.")
    has_summary_card: bool = True
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)

    @classmethod
    def from_cli(cls, config: str, **options: object) -> CTRunRequest:
        """Build from the positional ``CONFIG.json|default`` argument and the options."""
        config_path = None if config == "default" else Path(config)
        try:
            return cls.model_validate({"config_path": config_path, **options})
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
            raise UsageError(f"invalid options: {problems}.") from err


def load_overrides(config_path: Path | None) -> dict[str, JsonValue]:
    """Read the override JSON object (``None`` -> no overrides). Keys starting with ``_`` are comments.

    Raises:
        UsageError: the file is missing, not JSON, or not a JSON object.
    """
    if config_path is None:
        return {}
    loaded = read_json_object(config_path, what="config file", fallback_hint="the word 'default'")
    return {str(key): value for key, value in loaded.items() if not str(key).startswith("_")}
