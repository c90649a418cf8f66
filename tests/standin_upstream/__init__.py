"""Stand-in NV-Generate-CTMR root for tests: the real configs, a runnable ``scripts`` package, fake weights and data.

Build one with :func:`build_nv_generate_root`; switch failures on with :class:`Behaviour`.

Copied from the real snapshot (``../shared/upstreams/NV-Generate-CTMR``, see ``snapshot.py``) at build
time, never generated from our packaged facts: the whole ``configs/`` folder (config_infer.json and
its presets, every environment file, the label dictionaries, ``modality_mapping.json``, the network
and diff-model configs), ``requirements.txt``, and ``scripts/download_model_data.py``, which the
stand-in entry points call so they check exactly the downloads upstream checks. The fake weight and
dataset files are the ones that real function lists.

Where it stays simpler than upstream: the entry points in ``scripts_src/`` build no networks and run
no diffusion; they derive image/label volumes from a real CT (and a real T1 brain MR) instead. Their
input checks copy upstream's rules and messages in spirit, not its code; the dataset files hold
placeholder content (three size-condition vectors, one candidate entry) instead of the published
databases; Path B reads no real candidate masks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

import pytest

from medskills.core.label_spaces import LabelSpace, map_labels
from standin_upstream.snapshot import snapshot_path, upstream_download_files

__all__ = ["Behaviour", "StandinRoot", "build_nv_generate_root", "prepare_source_volumes"]

SCRIPTS_SOURCE = Path(__file__).parent / "scripts_src"
# Files copied from the real snapshot into every stand-in root (besides the whole configs/ folder).
SNAPSHOT_FILES = ("requirements.txt", "scripts/download_model_data.py")
# The size-condition database: 10-slot vectors in upstream slot order (gallbladder, liver, stomach,
# pancreas, colon, lung tumor, pancreatic tumor, hepatic tumor, colon cancer primaries, bone lesion).
ANATOMY_SIZE_CONDITIONS = [
    {"organ_size": [0.3, 0.5, 0.4, 0.4, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]},
    {"organ_size": [0.2, 0.6, 0.5, 0.3, 0.4, 0.4, 0.0, 0.0, 0.0, 0.0]},
    {"organ_size": [0.4, 0.7, 0.3, 0.5, 0.6, 0.0, 0.0, 0.3, 0.0, 0.0]},
]


@dataclass(frozen=True)
class Behaviour:
    """Switches for the stand-in entry points; the defaults behave like a healthy upstream.

    Extend by adding fields: the whole dataclass is written to ``standin_behaviour.json`` and the
    entry points read keys with defaults.
    """

    exit_code: int = 0
    sleep_seconds: float = 0.0
    is_constant_image: bool = False
    drop_output_label_ids: tuple[int, ...] = ()
    writes_stale_files: bool = False
    writes_no_outputs: bool = False
    quality_check_failures: int = 0
    peak_gpu_memory_gb: float = 12.34
    calls_dir: str | None = None


@dataclass(frozen=True)
class StandinRoot:
    """A built stand-in: the runtime root (CWD for upstream), the data root and where calls are logged."""

    root: Path
    data_root: Path
    calls_dir: Path
    behaviour: Behaviour = field(default_factory=Behaviour)

    def calls(self) -> list[dict[str, object]]:
        """What each stand-in invocation saw (argv, cwd, selected environment, merged config)."""
        return [json.loads(p.read_text()) for p in sorted(self.calls_dir.glob("call_*.json"))]

    def set_behaviour(self, behaviour: Behaviour) -> StandinRoot:
        """Rewrite the behaviour file; returns the updated description."""
        _write_behaviour(self.root, behaviour, self.calls_dir)
        return StandinRoot(root=self.root, data_root=self.data_root, calls_dir=self.calls_dir, behaviour=behaviour)


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))


def _write_behaviour(root: Path, behaviour: Behaviour, calls_dir: Path) -> None:
    payload = asdict(behaviour)
    payload["calls_dir"] = str(calls_dir)
    payload["drop_output_label_ids"] = list(behaviour.drop_output_label_ids)
    _write_json(root / "standin_behaviour.json", payload)


@lru_cache(maxsize=4)
def prepare_source_volumes(scan_dir: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """The real CT (int16 HU) and its labels converted from TotalSegmentator to MAISI ids (cached)."""
    import nibabel as nib

    image = nib.load(str(scan_dir / "image.nii.gz"))
    reference = nib.load(str(scan_dir / "reference_totalsegmentator.nii.gz"))
    ct = np.asarray(image.dataobj).astype(np.int16)
    converted = map_labels(np.asarray(reference.dataobj), source=LabelSpace.TOTALSEGMENTATOR, target=LabelSpace.MAISI)
    zooms = image.header.get_zooms()[:3]
    return ct, converted.labels.astype(np.uint16), (float(zooms[0]), float(zooms[1]), float(zooms[2]))


def _copy_from_snapshot(root: Path, label_dict_overrides: dict[str, int] | None) -> None:
    """The real configs/ folder and SNAPSHOT_FILES; ``label_dict_overrides`` edits the copied label_dict.json."""
    snapshot = snapshot_path()
    if not (snapshot / "configs" / "config_infer.json").is_file():
        pytest.skip(f"NV-Generate-CTMR snapshot not found at {snapshot}; put ../shared beside the checkout")
    shutil.copytree(snapshot / "configs", root / "configs", copy_function=shutil.copyfile)
    for name in SNAPSHOT_FILES:
        shutil.copyfile(snapshot / name, root / name)
    for folder in (root / "configs", root / "scripts"):
        folder.chmod(0o755)
    if label_dict_overrides:
        path = root / "configs" / "label_dict.json"
        _write_json(path, {**json.loads(path.read_text()), **label_dict_overrides})


def _write_assets(root: Path, data_root: Path, *, with_weights: bool, with_datasets: bool,
                  is_masks_extracted: bool) -> None:
    """The files upstream's own ``download_model_data`` checks for rflow-ct and ddpm-ct (model_only False)."""
    for version in ("rflow-ct", "ddpm-ct"):
        for item in upstream_download_files(version, root_dir=str(data_root)):
            is_dataset = "datasets/" in item["filename"]
            if (with_datasets if is_dataset else with_weights):
                _write_asset(root / item["path"], item["filename"], is_masks_extracted=is_masks_extracted)


def _write_asset(path: Path, filename: str, *, is_masks_extracted: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if filename.startswith("models/"):
        path.write_bytes(f"stand-in weights {filename}".encode())
    elif path.suffix == ".zip":
        path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip archive
        if is_masks_extracted:
            (path.with_suffix("")).mkdir(parents=True, exist_ok=True)
            (path.with_suffix("") / "README.txt").write_text("stand-in mask candidates\n")
    elif filename.endswith("all_anatomy_size_conditions.json"):
        _write_json(path, ANATOMY_SIZE_CONDITIONS)
    else:
        _write_json(path, [{"pseudo_label_filename": "all_masks_flexible_size_and_spacing_4000/x/mask.nii.gz",
                            "label_list": [1, 3, 23], "dim": [256, 256, 256], "spacing": [1.5, 1.5, 2.0]}])


def build_nv_generate_root(
    tmp_path: Path,
    *,
    scan_dir: Path,
    behaviour: Behaviour | None = None,
    with_weights: bool = True,
    with_datasets: bool = True,
    separate_data_root: bool = False,
    is_masks_extracted: bool = True,
    label_dict_overrides: dict[str, int] | None = None,
    is_git_repo: bool = False,
) -> StandinRoot:
    """Build a stand-in NV-Generate-CTMR root under ``tmp_path``.

    Args:
        tmp_path: a fresh folder (pytest's ``tmp_path``); ``nv_generate/`` and ``calls/`` go inside.
        scan_dir: folder with ``image.nii.gz`` and ``reference_totalsegmentator.nii.gz`` (ct_abdomen_3mm).
        behaviour: failure switches; default healthy.
        with_weights / with_datasets: write fake weight files / dataset files.
        separate_data_root: put ``datasets/`` under ``tmp_path/monai_data`` instead of the root.
        is_masks_extracted: False leaves only the mask-candidate zip (not the extracted folder).
        label_dict_overrides: entries changed in the copied ``configs/label_dict.json``.
        is_git_repo: make the root a git checkout with one commit.
    """
    root = tmp_path / "nv_generate"
    data_root = tmp_path / "monai_data" if separate_data_root else root
    calls_dir = tmp_path / "standin_calls"
    shutil.copytree(SCRIPTS_SOURCE, root / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    _copy_from_snapshot(root, label_dict_overrides)
    _write_assets(root, data_root, with_weights=with_weights, with_datasets=with_datasets,
                  is_masks_extracted=is_masks_extracted)
    ct, labels, spacing = prepare_source_volumes(Path(scan_dir))
    (root / "standin_data").mkdir()
    np.save(root / "standin_data" / "ct_hu.npy", ct)
    np.save(root / "standin_data" / "labels_maisi.npy", labels)
    _write_json(root / "standin_data" / "source.json", {"spacing_mm": list(spacing), "scan_dir": str(scan_dir)})
    behaviour = behaviour or Behaviour()
    _write_behaviour(root, behaviour, calls_dir)
    if is_git_repo:
        _git_commit(root)
    return StandinRoot(root=root, data_root=data_root, calls_dir=calls_dir, behaviour=behaviour)


def _git_commit(root: Path) -> None:
    environment = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                   "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "stand-in"]):
        subprocess.run(argv, cwd=root, check=True, env=environment, capture_output=True)
