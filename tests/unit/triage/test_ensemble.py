"""Ensemble predictor: members loaded once, NaN for unavailable or failing members, decision and findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from medskills.core.errors import ExitCode, ModelPackError
from medskills.triage import Predictor, load_predictor
from medskills.triage.pack_manifest import StackerProvenance
from medskills.triage.prediction import ModelErrorCode, NoModelsAvailable
from medskills.triage.models.astra import AstraMember, astra_feature_names
from medskills.triage.models.fvlm import fvlm_feature_names
from medskills.triage.pack_manifest import AstraMemberSpec, FVLMMemberSpec
from triage_models_support.builders import synthetic_volume, tiny_astra_member, trained_pack, write_pack


def _astra_pack(tmp_path: Path, *, thoracic: bool = True, extra_members: tuple[dict[str, object], ...] = ()) -> Path:
    base = tmp_path / "base"
    base.mkdir()
    entry = tiny_astra_member(base)
    names = list(astra_feature_names(AstraMemberSpec.model_validate(entry)))
    for extra in extra_members:
        if extra["kind"] == "fvlm":
            names += list(fvlm_feature_names(FVLMMemberSpec.model_validate(extra)))
    return trained_pack(tmp_path, [entry, *extra_members], names, thoracic=thoracic)


def _edit_manifest(pack: Path, change: Callable[[dict[str, Any]], object]) -> None:
    manifest = yaml.safe_load((pack / "pack.yaml").read_text())
    change(manifest)
    (pack / "pack.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def test_predictor_implements_the_protocol_and_records_the_pack(tmp_path: Path) -> None:
    predictor = load_predictor(_astra_pack(tmp_path))
    assert isinstance(predictor, Predictor)
    prediction = predictor.predict(synthetic_volume())
    assert prediction.model_version.startswith("stacker-")
    assert prediction.members_available == ["astra"] and prediction.members_unavailable == []
    assert prediction.probability_of_pathology_thoracic is not None and prediction.pathology_thoracic in (0, 1)
    assert prediction.feature_list_sha256 is not None
    assert prediction.stacker_provenance is StackerProvenance.SYNTHETIC
    assert prediction.fitted_on is not None and prediction.fitted_on.study_count == 60
    assert "generated" in prediction.fitted_on.description


def test_thoracic_fields_are_null_without_a_thoracic_stacker(tmp_path: Path) -> None:
    prediction = load_predictor(_astra_pack(tmp_path, thoracic=False)).predict(synthetic_volume())
    assert prediction.probability_of_pathology_thoracic is None and prediction.pathology_thoracic is None


def test_not_implemented_member_gives_nan_and_is_listed_unavailable(tmp_path: Path) -> None:
    predictor = load_predictor(_astra_pack(tmp_path, extra_members=({"kind": "fvlm"},)))
    row = predictor.features(synthetic_volume())
    fvlm_values = [row.values[n] for n in fvlm_feature_names(FVLMMemberSpec())]
    assert all(np.isnan(v) for v in fvlm_values)
    prediction = predictor.predict(synthetic_volume())
    assert [m.name for m in prediction.members_unavailable] == ["fvlm"]
    assert "not implemented" in prediction.members_unavailable[0].reason
    assert predictor.members_unavailable == prediction.members_unavailable


def test_each_member_done_is_reported_the_unavailable_one_included(tmp_path: Path) -> None:
    predictor = load_predictor(_astra_pack(tmp_path, extra_members=({"kind": "fvlm"},)))
    heard: list[tuple[int, int]] = []
    predictor.predict(synthetic_volume(), on_progress=lambda done, total: heard.append((done, total)))
    assert heard == [(1, 2), (2, 2)]


def test_study_on_which_every_member_fails_is_refused_not_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = load_predictor(_astra_pack(tmp_path))

    def broken(self: AstraMember, inputs: object) -> np.ndarray:
        raise RuntimeError("simulated out of memory")

    monkeypatch.setattr(AstraMember, "compute", broken)
    row = predictor.features(synthetic_volume())
    assert all(np.isnan(v) for v in row.values.values())
    assert not row.members_available and "simulated out of memory" in row.member_unavailable_reasons["astra"]
    with pytest.raises(NoModelsAvailable, match="astra: failed: RuntimeError: simulated out of memory") as refusal:
        predictor.predict(synthetic_volume())
    assert refusal.value.error_code == ModelErrorCode.NO_MODELS_AVAILABLE
    assert refusal.value.exit_code == ExitCode.FAILED


def test_pack_whose_members_are_all_unavailable_is_refused_at_load_naming_each(tmp_path: Path) -> None:
    pack = _astra_pack(tmp_path, extra_members=({"kind": "fvlm"},))
    (tmp_path / "base" / "astra_encoder.pt").unlink()
    with pytest.raises(ModelPackError, match="no member that can run") as refused:
        load_predictor(pack)
    message = str(refused.value)
    assert "- astra: weight file" in message and "does not exist" in message
    assert "- fvlm: fVLM" in message and "not implemented" in message


def test_pack_without_stacker_answers_without_a_probability(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    entry = tiny_astra_member(base)
    names = list(astra_feature_names(AstraMemberSpec.model_validate(entry)))
    vocabulary = [{"name": "Atypical study", "group": "ungrouped", "threshold": 0.0, "sources": [names[0]]}]
    write_pack(base, {"model_version": "members-only", "members": [entry], "vocabulary": vocabulary})
    prediction = load_predictor(base).predict(synthetic_volume())
    assert prediction.probability_of_pathology is None and prediction.pathology is None
    assert prediction.threshold is None and prediction.probability_of_pathology_thoracic is None
    assert prediction.stacker_provenance is StackerProvenance.NONE and prediction.fitted_on is None
    assert prediction.top_pathologies == ["Atypical study"]  # rule-based: the finding's own threshold
    assert prediction.members_available == ["astra"]


def test_stacker_features_that_no_member_produces_refuse_the_pack(tmp_path: Path) -> None:
    pack = _astra_pack(tmp_path)
    _edit_manifest(pack, lambda m: m["members"][0].update(name="other"))
    with pytest.raises(ModelPackError, match="produced by no configured member"):
        load_predictor(pack)


def test_top_pathologies_follow_the_vocabulary_when_pathology(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    entry = tiny_astra_member(base)
    names = list(astra_feature_names(AstraMemberSpec.model_validate(entry)))
    vocabulary = [
        {"name": "Atypical study", "group": "ungrouped", "threshold": 0.0, "sources": [names[0]]},
        {"name": "Never", "group": "ungrouped", "threshold": 1.0, "sources": [names[1]]},
    ]
    pack = trained_pack(tmp_path, [entry], names, vocabulary=vocabulary)
    _edit_manifest(pack, lambda m: m["thresholds"].update(main=0.0))
    prediction = load_predictor(pack).predict(synthetic_volume())
    assert prediction.pathology == 1
    assert prediction.top_pathologies == ["Atypical study"]
    assert prediction.top_pathology_scores[0].group == "ungrouped"


def test_member_weights_hash_is_checked_when_loading_the_predictor(tmp_path: Path) -> None:
    pack = _astra_pack(tmp_path)
    weights = tmp_path / "base" / "astra_encoder.pt"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ModelPackError, match="sha256"):
        load_predictor(pack)


def test_members_are_loaded_once_not_per_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import medskills.triage.models.astra as astra_module

    pack = _astra_pack(tmp_path)
    reads = []
    original = astra_module.read_torch_weights
    monkeypatch.setattr(astra_module, "read_torch_weights", lambda path: reads.append(path) or original(path))
    predictor = load_predictor(pack)
    for seed in range(3):
        predictor.predict(synthetic_volume(seed=seed))
    assert len(reads) == 1
