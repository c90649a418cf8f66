"""The service runtime: the predictor is loaded once, and when none can be, the reason says which setting."""

from __future__ import annotations

from pathlib import Path

from medskills.triage.api import ServiceSettings
from medskills.triage.api.runtime import load_runtime
from triage_service_support.predictors import FixedPredictor


def test_a_given_predictor_is_used_and_the_queue_follows_the_settings() -> None:
    predictor = FixedPredictor()
    runtime = load_runtime(ServiceSettings(queue_size=3), predictor)
    assert runtime.predictor is predictor and runtime.not_ready_reason is None and runtime.queue.size == 3


def test_no_pack_and_no_built_in_pack_names_both_variables() -> None:
    runtime = load_runtime(ServiceSettings(builtin_pack=False), None)
    assert runtime.predictor is None
    assert runtime.not_ready_reason is not None
    assert "MEDSKILLS_PACK_DIR" in runtime.not_ready_reason and "MEDSKILLS_BUILTIN_PACK" in runtime.not_ready_reason


def test_a_pack_that_fails_to_load_leaves_the_service_not_ready_with_the_folder(tmp_path: Path) -> None:
    runtime = load_runtime(ServiceSettings(pack_dir=tmp_path), None)
    assert runtime.predictor is None
    assert runtime.not_ready_reason is not None and runtime.not_ready_reason.startswith(f"model pack {tmp_path} failed")
