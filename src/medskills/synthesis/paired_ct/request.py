"""What one ``synth ct`` run is asked to do: the command-line request and the override file.

The override file is the user's JSON on top of upstream's ``configs/config_infer.json``; preflight
turns it into :class:`~medskills.synthesis.nv_generate.ct_inference.InferenceSettings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import JsonValue, ValidationError

from medskills.core.errors import UsageError
from medskills.core.io import read_json_object
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from medskills.synthesis.nv_generate.request import DEFAULT_TIMEOUT_SECONDS, ConfigFileRequest

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "CTRunRequest", "load_overrides"]


class CTRunRequest(ConfigFileRequest):
    """One ``synth ct`` invocation. ``config_path`` None means upstream's defaults (``default``); it must be given."""

    config_path: Path | None
    version: CTVersion = CTVersion.RFLOW_CT
    has_summary_card: bool = True

    @classmethod
    def from_cli(cls, config: str, **options: object) -> Self:
        """Build from the positional ``CONFIG.json|default`` argument and the options.

        Raises:
            UsageError: an option value is invalid (names the option and the rule).
        """
        try:
            return super().from_cli(config, **options)
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
