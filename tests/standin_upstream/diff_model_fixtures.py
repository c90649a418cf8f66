"""Pytest fixtures for the image-only / advanced CT stand-in; import them into a test module.

    from standin_upstream.diff_model_fixtures import advanced_standin, gpu_device, standin_settings  # noqa: F401
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings, load_settings
from standin_upstream import StandinRoot
from standin_upstream.diff_model import build_diff_model_root


@pytest.fixture
def advanced_standin(tmp_path: Path, shared_data: Path) -> StandinRoot:
    """A healthy stand-in root serving diff_model_infer, infer_image_from_mask and sample_mask."""
    return build_diff_model_root(tmp_path, shared_data=shared_data)


@pytest.fixture
def standin_settings(advanced_standin: StandinRoot, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing NV_GENERATE_ROOT at the stand-in."""
    monkeypatch.setenv("NV_GENERATE_ROOT", str(advanced_standin.root))
    return load_settings()


@pytest.fixture
def gpu_device() -> DeviceInfo:
    """A device description with CUDA, so the GPU check passes without a GPU."""
    return DeviceInfo(cuda_available=True, device_name="stand-in GPU", total_memory_gb=24.0, torch_version="stand-in")
