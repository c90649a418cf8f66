"""CT-CLIP member: published key layout, encode-once, pair-softmax probabilities, NaN when absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from medskills.core.errors import ModelPackError
from medskills.triage.models import UnavailableMember, load_member
from medskills.triage.models._ctvit import IGNORED_AT_INFERENCE, CTCLIPImageTower
from medskills.triage.models.ctclip import CTCLIPMember, _TextTower
from medskills.triage.pack import hash_path, load_pack
from medskills.triage.pack_manifest import CTViTArchitecture
from medskills.triage.preprocessing import StudyInputs
from triage_models_support.builders import synthetic_volume, write_pack
from triage_models_support.ctclip_builders import (
    TINY_PROMPTS,
    tiny_ctclip_member,
    tiny_ctclip_state,
    write_tiny_bert_dir,
)

LAYOUT = json.loads((Path(__file__).parent / "data" / "ctclip_published_layout.json").read_text())


def _load(root: Path, **kwargs: object) -> CTCLIPMember | UnavailableMember:
    write_pack(root, {"model_version": "v1", "members": [tiny_ctclip_member(root, **kwargs)]})
    pack = load_pack(root, require_stacker=False)
    return load_member(pack, pack.manifest.members[0])  # type: ignore[return-value]


def test_image_tower_matches_the_published_checkpoint_layout() -> None:
    with torch.device("meta"):
        tower = CTCLIPImageTower(CTViTArchitecture(**LAYOUT["config"]))
    ours = {k: list(v.shape) for k, v in tower.state_dict().items()}
    published = {k: v for k, v in LAYOUT["keys"].items() if k.startswith(("visual_transformer.", "to_visual_latent."))}
    assert ours == published


def test_text_tower_layout_matches_a_bert_base_model() -> None:
    from transformers import BertConfig, BertModel

    with torch.device("meta"):
        bert = BertModel(BertConfig())
    ours = {
        f"text_transformer.{k}": list(v.shape) for k, v in bert.state_dict().items() if k != "embeddings.position_ids"
    }
    published = {k: v for k, v in LAYOUT["keys"].items() if k.startswith("text_transformer.")}
    assert ours == published


def test_every_published_key_is_loaded_or_explicitly_ignored() -> None:
    loaded_prefixes = (
        "visual_transformer.",
        "to_visual_latent.",
        "text_transformer.",
        "to_text_latent.",
        "temperature",
    )
    training_only = [k for k in LAYOUT["training_only_entries"] if k != "note"]
    assert all(k.startswith(loaded_prefixes) for k in LAYOUT["keys"])
    assert all(k.startswith(IGNORED_AT_INFERENCE) for k in training_only)


def test_member_encodes_the_image_once_for_all_prompts(tmp_pack_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text_calls = []
    original_encode = _TextTower.encode
    monkeypatch.setattr(
        _TextTower, "encode", lambda self, texts: text_calls.append(len(texts)) or original_encode(self, texts)
    )
    member = _load(tmp_pack_root)
    assert isinstance(member, CTCLIPMember)
    assert text_calls == [2 * len(TINY_PROMPTS)]  # every prompt pair encoded once, at load
    image_calls = []
    member.image_tower.visual_transformer.register_forward_hook(lambda *args: image_calls.append(1))
    inputs = StudyInputs(synthetic_volume())
    values = member.compute(inputs)
    member.compute(inputs)
    assert len(image_calls) == 1 and text_calls == [2 * len(TINY_PROMPTS)]
    assert values.shape == (len(TINY_PROMPTS) + 3,) and np.all((values >= 0) & (values <= 1))
    member.compute(StudyInputs(synthetic_volume(seed=1)))
    assert len(image_calls) == 2


def test_probability_is_the_present_versus_absent_softmax(tmp_pack_root: Path) -> None:
    member = _load(tmp_pack_root)
    assert isinstance(member, CTCLIPMember)
    latent = torch.nn.functional.normalize(torch.randn(member.prompt_latents.shape[1]), dim=0)
    logits = (member.prompt_latents @ latent).double() * member.logit_scale
    expected = torch.exp(logits[0]) / (torch.exp(logits[0]) + torch.exp(logits[1]))
    assert member.probabilities(latent)[0] == pytest.approx(float(expected))
    assert member.feature_names[:2] == ("ctclip_pneumothorax", "ctclip_pleural_effusion")


def test_missing_text_encoder_directory_gives_an_unavailable_member(tmp_pack_root: Path) -> None:
    entry = tiny_ctclip_member(tmp_pack_root)
    entry["text_encoder"] = {"path": "absent_bert", "sha256": "0" * 64}
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [entry]})
    pack = load_pack(tmp_pack_root, require_stacker=False)
    member = load_member(pack, pack.manifest.members[0])
    assert isinstance(member, UnavailableMember) and "absent_bert" in member.reason
    assert np.all(np.isnan(member.compute(StudyInputs(synthetic_volume()))))


def test_checkpoint_with_foreign_keys_is_refused(tmp_pack_root: Path) -> None:
    entry = tiny_ctclip_member(tmp_pack_root)
    state = tiny_ctclip_state(write_tiny_bert_dir(tmp_pack_root / "b2", ["x"]))
    state["decoder.extra.weight"] = torch.zeros(1)
    checkpoint = tmp_pack_root / "ctclip.pt"
    torch.save(state, checkpoint)
    entry["checkpoint"] = {"path": checkpoint.name, "sha256": hash_path(checkpoint)}
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [entry]})
    pack = load_pack(tmp_pack_root, require_stacker=False)
    with pytest.raises(ModelPackError, match="outside the CT-CLIP layout"):
        load_member(pack, pack.manifest.members[0])
