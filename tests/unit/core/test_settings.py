from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.settings import Settings


def test_empty_upstream_root_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NV_SEGMENT_CTMR_ROOT", "")
    monkeypatch.setenv("NV_GENERATE_ROOT", "  ")
    settings = Settings()
    assert settings.nv_segment_ctmr_root is None and settings.nv_generate_root is None


def test_upstream_roots_are_read_from_their_historical_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NV_GENERATE_ROOT", "/opt/nvgen")
    assert Settings().nv_generate_root == Path("/opt/nvgen")
