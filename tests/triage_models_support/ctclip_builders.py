"""Tiny CT-CLIP / supervised checkpoints in the published key layout, and a tiny local BERT directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from medskills.triage.pack import hash_path
from medskills.triage.pack_manifest import CTViTArchitecture

TINY_CTVIT = CTViTArchitecture(
    dim=16,
    codebook_size=32,
    image_size=16,
    patch_size=8,
    temporal_patch_size=4,
    depth_slices=8,
    spatial_depth=1,
    temporal_depth=1,
    dim_head=8,
    heads=2,
    dim_text=16,
    dim_latent=8,
)
TINY_CTCLIP_PREPROCESSING = {"spacing_mm_zyx": [40.0, 20.0, 20.0], "shape_zyx": [8, 16, 16]}
TINY_PROMPTS = ("Pneumothorax", "Pleural effusion", "Atelectasis", "Pathological finding")


def write_tiny_bert_dir(directory: Path, words: Sequence[str]) -> Path:
    """A local transformers directory: tiny BertConfig + a word-level vocabulary covering ``words``."""
    from transformers import BertConfig, BertTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted({w.lower() for w in words}), "."]
    (directory / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    BertTokenizer(str(directory / "vocab.txt"), do_lower_case=True).save_pretrained(str(directory))
    config = BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=TINY_CTVIT.dim_text,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    config.save_pretrained(str(directory))
    return directory


def tiny_ctclip_state(bert_dir: Path, *, seed: int = 0) -> dict[str, object]:
    """A random CTCLIP state dict in the published layout (training-only entries included)."""
    import torch
    from transformers import BertConfig, BertModel

    from medskills.triage.models._ctvit import CTCLIPImageTower

    torch.manual_seed(seed)
    a = TINY_CTVIT
    tower = CTCLIPImageTower(a)
    codebook = torch.nn.functional.normalize(torch.randn(1, a.codebook_size, a.dim), dim=-1)
    state: dict[str, object] = {k: v.clone() for k, v in tower.state_dict().items()}
    state["visual_transformer.vq._codebook.embed"] = codebook
    state["visual_transformer.vq._codebook.initted"] = torch.tensor([True])
    state["visual_transformer.vq._codebook.cluster_size"] = torch.ones(1, a.codebook_size)
    state["visual_transformer.vq._codebook.embed_avg"] = codebook.clone()
    bert = BertModel(BertConfig.from_pretrained(str(bert_dir)))
    state |= {f"text_transformer.{k}": v for k, v in bert.state_dict().items()}
    state["to_text_latent.weight"] = torch.randn(a.dim_latent, a.dim_text)
    state["to_text_latent_extra.weight"] = torch.randn(a.dim_latent, a.dim_text)
    state["to_visual_latent_extra.weight"] = torch.randn(a.dim_latent, a.dim_image)
    state["temperature"] = torch.tensor(1.0)
    return state


def tiny_ctclip_member(root: Path, *, name: str = "ctclip", prompts: Sequence[str] = TINY_PROMPTS) -> dict[str, object]:
    """Write a tiny CT-CLIP checkpoint + BERT dir under ``root``; return the member's pack.yaml entry."""
    import torch

    words = [w for p in prompts for w in p.replace("(", " ").replace(")", " ").split()] + ["is", "not", "present"]
    bert_dir = write_tiny_bert_dir(root / f"{name}_bert", words)
    checkpoint = root / f"{name}.pt"
    torch.save(tiny_ctclip_state(bert_dir), checkpoint)
    return {
        "kind": "ctclip",
        "name": name,
        "checkpoint": {"path": checkpoint.name, "sha256": hash_path(checkpoint)},
        "text_encoder": {"path": bert_dir.name, "sha256": hash_path(bert_dir)},
        "prompts": list(prompts),
        "max_text_tokens": 64,
        "architecture": TINY_CTVIT.model_dump(mode="json"),
        "preprocessing": TINY_CTCLIP_PREPROCESSING,
    }


def tiny_supervised_member(
    root: Path, classes: Sequence[str] | None = ("pneumothorax", "cancer", "normal")
) -> dict[str, object]:
    """A tiny SimpleCTCLIPClassifier-style checkpoint: ``ct_clip.*`` backbone + head (+ target_pathologies)."""
    import torch

    bert_dir = write_tiny_bert_dir(root / "supervised_bert", ["x"])
    backbone = tiny_ctclip_state(bert_dir, seed=1)
    count = len(classes) if classes else 2
    state = {f"ct_clip.{k}": v for k, v in backbone.items()}
    state["pre_head_norm.weight"] = torch.ones(TINY_CTVIT.dim_latent)
    state["pre_head_norm.bias"] = torch.zeros(TINY_CTVIT.dim_latent)
    state["classifier.1.weight"] = torch.randn(count, TINY_CTVIT.dim_latent)
    state["classifier.1.bias"] = torch.zeros(count)
    payload: dict[str, object] = {"model_state_dict": state}
    if classes:
        payload["target_pathologies"] = list(classes)
    checkpoint = root / "supervised_model.pt"
    torch.save(payload, checkpoint)
    return {
        "kind": "supervised",
        "checkpoint": {"path": checkpoint.name, "sha256": hash_path(checkpoint)},
        "architecture": TINY_CTVIT.model_dump(mode="json"),
        "preprocessing": TINY_CTCLIP_PREPROCESSING,
    }
