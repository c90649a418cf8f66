"""Build tiny triage members, generated feature tables and packs inside tests (never shipped)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from medskills.core.io import sha256_file
from medskills.dicom.volume import HUVolume
from medskills.triage.pack import hash_path
from medskills.triage.pack_manifest import I3ResNetArchitecture

TINY_I3RESNET = I3ResNetArchitecture(blocks_per_layer=(1, 1, 1, 1), base_channels=4)
TINY_ASTRA_PREPROCESSING = {"target_shape_xyz": [32, 32, 16]}


def synthetic_volume(shape: tuple[int, int, int] = (40, 36, 30), *, spacing_mm: float = 8.0, seed: int = 0) -> HUVolume:
    """A body-like phantom: air outside, a soft-tissue ellipsoid with two air 'lungs', float32 HU, RAS."""
    rng = np.random.default_rng(seed)
    i, j, k = np.meshgrid(*(np.linspace(-1, 1, n) for n in shape), indexing="ij")
    array = np.full(shape, -1000.0, dtype=np.float32)
    body = (i / 0.85) ** 2 + (j / 0.7) ** 2 < 1.0
    array[body] = 40.0
    lungs = (((i - 0.35) / 0.25) ** 2 + (j / 0.35) ** 2 + (k / 0.7) ** 2 < 1) | (
        ((i + 0.35) / 0.25) ** 2 + (j / 0.35) ** 2 + (k / 0.7) ** 2 < 1
    )
    array[lungs] = -850.0
    array += rng.normal(0, 15, size=shape).astype(np.float32)
    affine = np.diag([spacing_mm, spacing_mm, spacing_mm, 1.0])
    return HUVolume(array=array, affine=affine, spacing_mm=(spacing_mm,) * 3, study_uid="1.2.3", series_uid="1.2.3.4")


def build_tiny_astra_weights(path: Path, *, seed: int = 0) -> str:
    """Save a random tiny I3ResNet in the Astra file layout ({state_dict (bf16), meta}); return sha256."""
    import torch

    from medskills.triage.models._i3resnet import build_i3resnet

    torch.manual_seed(seed)
    network = build_i3resnet(TINY_I3RESNET)
    state = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in network.state_dict().items()}
    torch.save({"state_dict": state, "meta": {"source": "test", "n_tensor": len(state)}}, path)
    return sha256_file(path)


def tiny_astra_member(root: Path, *, name: str = "astra", with_reference: bool = False) -> dict[str, object]:
    """Write tiny Astra weights under ``root`` and return the member's pack.yaml entry."""
    weights = root / f"{name}_encoder.pt"
    entry: dict[str, object] = {
        "kind": "astra",
        "name": name,
        "encoder": {"path": weights.name, "sha256": build_tiny_astra_weights(weights)},
        "architecture": TINY_I3RESNET.model_dump(mode="json"),
        "preprocessing": TINY_ASTRA_PREPROCESSING,
    }
    if with_reference:
        dim = TINY_I3RESNET.embedding_dim
        reference = root / f"{name}_normal_reference.npz"
        np.savez(reference, mean=np.zeros(dim), precision=np.eye(dim))
        entry["normal_reference"] = {"path": reference.name, "sha256": sha256_file(reference)}
    return entry


def write_pack(root: Path, manifest: dict[str, object]) -> Path:
    """Write ``pack.yaml`` into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return root


def generated_feature_table(
    path: Path,
    labels_path: Path,
    names: Sequence[str],
    *,
    studies: int = 120,
    seed: int = 0,
    signal: str | None = None,
    nan_prefixes: tuple[str, ...] = (),
) -> None:
    """A feature table where ``signal`` (default: the first name) separates the classes; other columns are noise.

    Labels: ``label`` (main) and ``label_thoracic`` (= label for half the positives flipped), some NaN cells.
    """
    rng = np.random.default_rng(seed)
    signal = signal or names[0]
    labels = np.tile([0, 1], studies // 2)
    values = rng.normal(0, 1, size=(studies, len(names)))
    values[:, list(names).index(signal)] += 3.0 * labels
    values[rng.random(values.shape) < 0.05] = np.nan
    values[:, list(names).index(signal)] = np.where(
        np.isnan(values[:, list(names).index(signal)]), 0.0, values[:, list(names).index(signal)]
    )
    for index, name in enumerate(names):
        if name.startswith(nan_prefixes) and nan_prefixes:
            values[:, index] = np.nan
    ids = [f"study{i:04d}" for i in range(studies)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["study_id", *names])
        for study, row in zip(ids, values, strict=True):
            writer.writerow([study, *("" if np.isnan(v) else f"{v:.6f}" for v in row)])
    with labels_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["study_id", "label", "label_thoracic"])
        for study, label in zip(ids, labels, strict=True):
            writer.writerow([study, int(label), int(label)])


def trained_pack(
    tmp_path: Path,
    members: list[dict[str, object]],
    feature_names: Sequence[str],
    *,
    thoracic: bool = True,
    nan_prefixes: tuple[str, ...] = (),
    **manifest: object,
) -> Path:
    """A members-only base pack plus a stacker trained on a generated table: returns the full pack dir."""
    from medskills.triage.pack_manifest import StackerProvenance
    from medskills.triage.training import TrainStackerRequest, train_stacker

    base = write_pack(tmp_path / "base", {"model_version": "base", "members": members, **manifest})
    features, labels = tmp_path / "features.csv", tmp_path / "labels.csv"
    generated_feature_table(features, labels, feature_names, studies=60, nan_prefixes=nan_prefixes)
    if not thoracic:
        rows = labels.read_text().splitlines()
        labels.write_text("\n".join(",".join(r.split(",")[:2]) for r in rows) + "\n")
    request = TrainStackerRequest(
        features_path=features,
        labels_path=labels,
        output_dir=tmp_path / "pack",
        base_pack=base,
        folds=3,
        boosting_rounds=20,
        provenance=StackerProvenance.SYNTHETIC,
    )
    return train_stacker(request).pack_dir


__all__ = [
    "trained_pack",
    "TINY_I3RESNET",
    "build_tiny_astra_weights",
    "generated_feature_table",
    "hash_path",
    "synthetic_volume",
    "tiny_astra_member",
    "write_pack",
]


TINY_MEDNEXT = {"init_filters": 4, "blocks_down": [1, 1], "blocks_bottleneck": 1}
TINY_MEDNEXT_PREPROCESSING = {"spacing_mm": [16.0, 16.0, 16.0], "roi_size": [16, 16, 16]}


def tiny_mednext_member(
    root: Path,
    classes: Sequence[str] = ("normal", "pneumothorax", "cancer"),
    *,
    wrap: bool = True,
    **preprocessing: object,
) -> dict[str, object]:
    """A tiny random MedNeXt classifier saved like the reference (``model_state`` + ``module.`` prefixes)."""
    import torch

    from medskills.triage.models.mednext import build_mednext_classifier
    from medskills.triage.pack_manifest import MedNeXtArchitecture

    torch.manual_seed(0)
    network = build_mednext_classifier(MedNeXtArchitecture.model_validate(TINY_MEDNEXT), len(classes))
    state = {f"module.{k}": v for k, v in network.state_dict().items()}
    checkpoint = root / "mednext.pt"
    torch.save({"model_state": state} if wrap else network.state_dict(), checkpoint)
    return {
        "kind": "mednext",
        "checkpoint": {"path": checkpoint.name, "sha256": sha256_file(checkpoint)},
        "classes": list(classes),
        "architecture": TINY_MEDNEXT,
        "preprocessing": TINY_MEDNEXT_PREPROCESSING | preprocessing,
    }


def load_single_member(root: Path, entry: dict[str, object]) -> object:
    """Write a members-only pack holding ``entry`` and load that member."""
    from medskills.triage.models import load_member
    from medskills.triage.pack import load_pack

    write_pack(root, {"model_version": "v1", "members": [entry]})
    pack = load_pack(root, require_stacker=False)
    return load_member(pack, pack.manifest.members[0])
