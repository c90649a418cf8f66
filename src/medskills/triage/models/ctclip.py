"""CT-CLIP zero-shot member: P(present) per prompt from the present/not-present pair softmax (§C.1).

The image is encoded once per study and the prompt texts once per pack (at load), instead of one
image forward per prompt (§E.14). The BERT text tower is built with ``transformers`` from a local
directory (config, vocabulary); the fine-tuned text weights then come from the checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import ModelPackError
from medskills.triage.models._member import (
    UnavailableMember,
    class_sources,
    probability_feature_names,
    probability_features,
)
from medskills.triage.models._torch_io import load_state_dict_strict, read_torch_weights
from medskills.triage.pack import LoadedPack
from medskills.triage.pack_manifest import CTCLIPMemberSpec, CTViTArchitecture, CTCLIPPreprocessing
from medskills.triage.preprocessing import StudyInputs, ctclip_input

__all__ = [
    "CTCLIPMember",
    "ctclip_feature_names",
    "encode_study_image",
    "load_ctclip_member",
    "load_image_tower",
    "select_prefixed",
    "unwrap_state_dict",
]

logger = logging.getLogger(__name__)

_OPTIONAL_TEXT_KEYS = ("embeddings.position_ids",)


def ctclip_feature_names(spec: CTCLIPMemberSpec) -> tuple[str, ...]:
    """``ctclip_<prompt>`` per prompt plus mean/max/top-3 aggregates."""
    return probability_feature_names(spec.name, spec.prompts)


def unwrap_state_dict(payload: Any, *, where: Path) -> dict[str, Any]:
    """The tensor mapping of a checkpoint: the payload itself or its ``state_dict``/``model_state_dict``."""
    for key in ("model_state_dict", "state_dict"):
        if isinstance(payload, dict) and isinstance(payload.get(key), dict):
            return dict(payload[key])
    if not isinstance(payload, dict):
        raise ModelPackError(f"{where}: expected a state dict, found {type(payload).__name__}")
    return dict(payload)


def select_prefixed(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Entries under ``prefix``, with the prefix removed."""
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}


def load_image_tower(state: Mapping[str, Any], architecture: CTViTArchitecture, *, prefix: str, where: Path) -> Any:
    """Build our CTViT image tower and load ``visual_transformer.*`` / ``to_visual_latent.*`` strictly."""
    from medskills.triage.models._ctvit import IGNORED_AT_INFERENCE, CTCLIPImageTower

    tower = CTCLIPImageTower(architecture)
    wanted = {
        key: value
        for key, value in select_prefixed(state, prefix).items()
        if key.startswith(("visual_transformer.", "to_visual_latent."))
        and not key.startswith(tuple(k for k in IGNORED_AT_INFERENCE))
    }
    codebook = wanted.get("visual_transformer.vq._codebook.embed")
    if codebook is not None and codebook.ndim == 2:  # older single-codebook layout [K, D]
        wanted["visual_transformer.vq._codebook.embed"] = codebook[None]
    load_state_dict_strict(tower, wanted, where=where)
    return tower.eval()


def _check_no_unknown_keys(state: Mapping[str, Any], known_prefixes: tuple[str, ...], *, where: Path) -> None:
    from medskills.triage.models._ctvit import IGNORED_AT_INFERENCE

    unknown = sorted(k for k in state if not k.startswith(known_prefixes + IGNORED_AT_INFERENCE))
    if unknown:
        raise ModelPackError(f"{where}: {len(unknown)} keys outside the CT-CLIP layout (e.g. {unknown[:4]}).")


def encode_study_image(inputs: StudyInputs, tower: Any, *, key: str, preprocessing: CTCLIPPreprocessing) -> Any:
    """The study's image latent from ``tower``, computed once per study and tower (memoised)."""
    import torch

    def encode() -> Any:
        volume = inputs.derive(preprocessing, lambda: ctclip_input(inputs.volume, preprocessing))
        with torch.inference_mode():
            return tower(volume)[0]

    return inputs.derive(("ctclip-image-latent", key), encode)


class _TextTower:
    """BERT + ``to_text_latent``: texts -> l2-normalised latents from the [CLS] token."""

    def __init__(self, bert: Any, tokenizer: Any, projection: Any, *, max_tokens: int) -> None:
        self.bert, self.tokenizer, self.projection, self.max_tokens = bert, tokenizer, projection, max_tokens

    def encode(self, texts: list[str]) -> Any:
        import torch
        import torch.nn.functional as F

        # Padding to the longest prompt instead of 512: masked positions do not change [CLS].
        tokens = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_tokens)
        with torch.inference_mode():
            hidden = self.bert(input_ids=tokens.input_ids, attention_mask=tokens.attention_mask)[0]
            return F.normalize(self.projection(hidden[:, 0, :]), dim=-1)


def _load_text_tower(state: Mapping[str, Any], spec: CTCLIPMemberSpec, text_dir: Path, *, where: Path) -> _TextTower:
    """BERT from the local directory with the original's concrete classes (``BertTokenizer`` lower-casing,
    ``BertModel``), never the ``Auto*`` ones: a directory holding custom code (``auto_map``, as the
    CXR-BERT hub folder does) is then never executed and never makes transformers ask on stdin whether
    to trust it; ``local_files_only`` keeps the hub out."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(str(text_dir), do_lower_case=True, local_files_only=True)
    bert = BertModel(BertConfig.from_pretrained(str(text_dir), local_files_only=True))
    bert.eval()  # type: ignore[no-untyped-call]  # transformers' PreTrainedModel.eval override is unannotated
    text_state = {k: v for k, v in select_prefixed(state, "text_transformer.").items() if k not in _OPTIONAL_TEXT_KEYS}
    for key in _OPTIONAL_TEXT_KEYS:
        if key in bert.state_dict():
            text_state[key] = bert.state_dict()[key]
    load_state_dict_strict(bert, text_state, where=where)
    projection = torch.nn.Linear(spec.architecture.dim_text, spec.architecture.dim_latent, bias=False)
    load_state_dict_strict(projection, select_prefixed(state, "to_text_latent."), where=where)
    return _TextTower(bert, tokenizer, projection.eval(), max_tokens=spec.max_text_tokens)


class CTCLIPMember:
    """Loaded once; prompt latents cached at load; one image forward per study."""

    def __init__(self, spec: CTCLIPMemberSpec, image_tower: Any, prompt_latents: Any, temperature: float) -> None:
        self.spec = spec
        self.name = spec.name
        self.feature_names = ctclip_feature_names(spec)
        self.finding_sources: Mapping[str, str] = class_sources(spec.name, spec.prompts)
        self.image_tower = image_tower
        self.prompt_latents = prompt_latents  # [2 * prompts, L]: present, absent, present, absent, ...
        self.logit_scale = float(np.exp(temperature))

    def probabilities(self, image_latent: Any) -> npt.NDArray[np.float64]:
        """P(present) per prompt from one image latent [L]."""
        logits = (self.prompt_latents @ image_latent) * self.logit_scale
        pairs = logits.reshape(-1, 2).double().softmax(dim=-1)
        return np.asarray(pairs[:, 0].numpy(), dtype=np.float64)

    def compute(self, inputs: StudyInputs) -> npt.NDArray[np.float64]:
        """Per-prompt P(present) and the three aggregates."""
        latent = encode_study_image(inputs, self.image_tower, key=self.name, preprocessing=self.spec.preprocessing)
        return probability_features(self.spec.prompts, self.probabilities(latent))


def load_ctclip_member(pack: LoadedPack, spec: CTCLIPMemberSpec) -> CTCLIPMember | UnavailableMember:
    """Load the checkpoint into our image and text towers and encode every prompt once."""
    checkpoint, text_dir = pack.weight(spec.checkpoint), pack.weight(spec.text_encoder)
    if checkpoint.path is None or text_dir.path is None:
        reason = "; ".join(filter(None, (checkpoint.missing_reason, text_dir.missing_reason)))
        logger.warning("member %s unavailable: %s", spec.name, reason)
        return UnavailableMember(spec.name, ctclip_feature_names(spec), reason, class_sources(spec.name, spec.prompts))
    state = unwrap_state_dict(read_torch_weights(checkpoint.path), where=checkpoint.path)
    known = ("visual_transformer.", "to_visual_latent.", "text_transformer.", "to_text_latent.", "temperature")
    _check_no_unknown_keys(state, known, where=checkpoint.path)
    if "temperature" not in state:
        raise ModelPackError(f"{checkpoint.path}: the CT-CLIP 'temperature' entry is missing.")
    image_tower = load_image_tower(state, spec.architecture, prefix="", where=checkpoint.path)
    text_tower = _load_text_tower(state, spec, text_dir.path, where=checkpoint.path)
    texts = [
        template.format(prompt) for prompt in spec.prompts for template in (spec.present_template, spec.absent_template)
    ]
    prompt_latents = text_tower.encode(texts)
    return CTCLIPMember(spec, image_tower, prompt_latents, float(state["temperature"]))
