"""CT-CLIP member: published key layout, outputs of the original code, encode-once, pair-softmax, NaN when absent."""

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
from triage_models_support.builders import load_single_member, synthetic_volume, write_pack
from triage_models_support.ctclip_builders import (
    TINY_PROMPTS,
    tiny_ctclip_member,
    tiny_ctclip_state,
    write_tiny_bert_dir,
)
from triage_models_support.golden import layout_state_dict, read_golden, seeded_input, write_bert_dir

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


# --- fidelity to the original code (expected numbers from ibrahimethemhamamci/CT-CLIP, see golden/) ---

GOLDEN = read_golden("ctclip")


@pytest.fixture(scope="module")
def golden_member(tmp_path_factory: pytest.TempPathFactory) -> CTCLIPMember:
    """Our member loaded, strictly, from a checkpoint laid out as the original CTCLIP saves it."""
    root = tmp_path_factory.mktemp("golden_ctclip")
    bert_dir = write_bert_dir(root / "bert", GOLDEN["vocabulary"], GOLDEN["bert_config"])
    checkpoint = root / "ctclip.pt"
    torch.save(layout_state_dict(GOLDEN["state_dict_layout"], GOLDEN["weight_seed"]), checkpoint)
    entry = {
        "kind": "ctclip",
        "checkpoint": {"path": checkpoint.name, "sha256": hash_path(checkpoint)},
        "text_encoder": {"path": bert_dir.name, "sha256": hash_path(bert_dir)},
        "prompts": GOLDEN["prompts"],
        "architecture": GOLDEN["config"],
    }
    member = load_single_member(root, entry)
    assert isinstance(member, CTCLIPMember)
    return member


def test_golden_image_latent_and_tokens_equal_the_original(golden_member: CTCLIPMember) -> None:
    volume = seeded_input(GOLDEN["input_shape"], GOLDEN["input_seed"])
    encoder = golden_member.image_tower.visual_transformer
    with torch.inference_mode():
        indices = encoder.vq.nearest(encoder.encode(volume))
        latent = golden_member.image_tower(volume)[0]
    expected = GOLDEN["expected"]
    assert indices.flatten().tolist() == expected["codebook_indices"]
    np.testing.assert_allclose(latent.numpy(), expected["image_latent"], atol=GOLDEN["tolerance"]["latent_abs"])


def test_golden_prompt_probabilities_equal_the_original_zero_shot(golden_member: CTCLIPMember) -> None:
    volume = seeded_input(GOLDEN["input_shape"], GOLDEN["input_seed"])
    with torch.inference_mode():
        latent = golden_member.image_tower(volume)[0]
    expected, tolerance = GOLDEN["expected"], GOLDEN["tolerance"]
    # the original pads every prompt to 512 tokens, we pad to the longest: [CLS] must not notice
    np.testing.assert_allclose(
        golden_member.prompt_latents[0].numpy(), expected["present_text_latent_of_first_prompt"], atol=1e-5
    )
    assert golden_member.logit_scale == pytest.approx(np.exp(expected["temperature"]), rel=1e-6)
    np.testing.assert_allclose(
        golden_member.probabilities(latent), expected["probabilities"], atol=tolerance["probability_abs"]
    )


def test_attention_takes_keys_and_values_before_its_layer_norm() -> None:
    """Pins the original's pre-norm keys/values: the norm's gain reaches only the l2-normalised queries."""
    from medskills.triage.models._ctvit import CosineAttention

    torch.manual_seed(0)
    attention = CosineAttention(8, dim_head=4, heads=2).eval()
    tokens = torch.randn(1, 5, 8)
    with torch.no_grad():
        before = attention(tokens)
        attention.norm.gamma.mul_(3.0)  # scales the queries only; l2 normalisation cancels it
        after_gain = attention(tokens)
        after_input_scale = attention(2.0 * tokens)  # values scale with the raw input
    torch.testing.assert_close(after_gain, before)
    torch.testing.assert_close(after_input_scale, 2.0 * before)


def test_text_tower_from_a_directory_with_custom_code_never_prompts_or_runs_it(
    tmp_pack_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hub-style folder whose config asks for remote code (auto_map) loads offline, stdin closed."""
    import builtins
    import io

    entry = tiny_ctclip_member(tmp_pack_root)
    bert_dir = tmp_pack_root / entry["text_encoder"]["path"]  # type: ignore[index]
    marker = tmp_pack_root / "custom_code_ran"
    (bert_dir / "modeling_custom.py").write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    # as the CXR-BERT hub folder: a model type transformers does not know, classes only as remote code
    auto_map = {
        "AutoConfig": "modeling_custom.Config",
        "AutoModel": "modeling_custom.Model",
        "AutoTokenizer": ["modeling_custom.Tok", None],
    }
    for name in ("config.json", "tokenizer_config.json"):
        config = json.loads((bert_dir / name).read_text())
        config.pop("tokenizer_class", None)
        config |= {"auto_map": auto_map} | ({"model_type": "cxr-bert"} if name == "config.json" else {})
        (bert_dir / name).write_text(json.dumps(config))
    entry["text_encoder"] = {"path": bert_dir.name, "sha256": hash_path(bert_dir)}
    closed = io.StringIO()
    closed.close()  # any read raises ValueError
    monkeypatch.setattr("sys.stdin", closed)
    monkeypatch.setattr(builtins, "input", lambda *args: pytest.fail(f"asked on stdin: {args}"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    member = load_single_member(tmp_pack_root, entry)
    assert isinstance(member, CTCLIPMember)
    assert not marker.exists()
