"""Seeded weights and inputs shared by the golden tests and the run of the original code that made them.

The expected numbers under ``tests/unit/triage/models/golden/`` were produced by the original classes
(CT-CLIP at ibrahimethemhamamci/CT-CLIP, SimpleCTCLIPClassifier and MedNeXt3DClassifier at
FscoreLab/Celsus_PLI; commits in each JSON file) with the weights of ``seeded_state_dict`` and the
input of ``seeded_input``. Every tensor depends only on its key, its shape and the seed, so the
original network and ours receive the same numbers whatever else their state dicts hold.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "unit" / "triage" / "models" / "golden"

__all__ = [
    "GOLDEN_DIR",
    "layout_state_dict",
    "read_golden",
    "seeded_input",
    "seeded_tensor",
    "write_bert_dir",
]


def seeded_tensor(key: str, shape: Sequence[int], seed: int) -> Any:
    """A float32 tensor drawn from N(0, 1) by a generator seeded with ``seed`` and the key's CRC-32.

    Matrices and kernels are scaled by 1/sqrt(fan-in); 1-d gains (``*weight``, ``*gamma``, ``*scale``)
    are 1 + 0.1 N(0, 1); other 1-d tensors and scalars 0.1 N(0, 1).
    """
    import torch

    generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(key.encode()))
    values = torch.randn(tuple(shape), generator=generator, dtype=torch.float32)
    if len(shape) >= 2:
        return values / math.sqrt(max(1, math.prod(shape[1:])))
    if key.endswith(("weight", "gamma", "scale")):
        return 1.0 + 0.1 * values
    return 0.1 * values


def seeded_input(shape: Sequence[int], seed: int) -> Any:
    """The golden input: N(0, 1) float32 from a generator seeded with ``seed``."""
    import torch

    return torch.randn(tuple(shape), generator=torch.Generator().manual_seed(seed), dtype=torch.float32)


def layout_state_dict(layout: Mapping[str, Mapping[str, Any]], seed: int) -> dict[str, Any]:
    """A state dict with the keys, shapes and dtypes of ``layout`` (as the original classes save it).

    Floating-point entries get ``seeded_tensor``; other entries (e.g. the codebook's ``initted`` flag)
    the values the original saved, recorded in the layout.
    """
    import torch

    state: dict[str, Any] = {}
    for key, entry in layout.items():
        if entry["dtype"].startswith("float"):
            state[key] = seeded_tensor(key, entry["shape"], seed)
        else:
            dtype = getattr(torch, entry["dtype"])
            state[key] = torch.tensor(entry["values"], dtype=dtype).reshape(entry["shape"])
    return state


def read_golden(name: str) -> dict[str, Any]:
    """One golden record (config, seeds, layout, expected outputs) from ``golden/<name>.json``."""
    return dict(json.loads((GOLDEN_DIR / f"{name}.json").read_text(encoding="utf-8")))


def write_bert_dir(directory: Path, vocabulary: Sequence[str], config: Mapping[str, Any]) -> Path:
    """A local transformers directory: ``vocab.txt`` + tokenizer files + a ``BertConfig`` from ``config``."""
    from transformers import BertConfig, BertTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    BertTokenizer(str(directory / "vocab.txt"), do_lower_case=True).save_pretrained(str(directory))
    BertConfig(**config).save_pretrained(str(directory))
    return directory
