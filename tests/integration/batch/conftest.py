"""Real jobs for batch tests: CT synthesis through the stand-in upstream, segmentation through the tiny real bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standin_upstream import Behaviour, StandinRoot, build_nv_generate_root

from medskills.core.assets import sha256_pins
from medskills.core.skills import SkillId
from medskills.core.io import sha256_file

SMALL_CT_REQUEST = {"output_size": [256, 256, 128], "spacing": [1.5, 1.5, 2.0], "image_output_ext": ".nii",
                    "label_output_ext": ".nii", "anatomy_list": ["liver", "spleen"]}


def build_standin(folder: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch, *,
                  behaviour: Behaviour | None = None) -> StandinRoot:
    """A stand-in NV-Generate-CTMR root the jobs' own processes find through the environment."""
    standin = build_nv_generate_root(folder, scan_dir=shared_data / "ct_abdomen_3mm", behaviour=behaviour)
    cache = folder / "sha256_cache.json"
    pins = sha256_pins(SkillId.SYNTH_CT, "rflow-ct")
    entries = {}
    for path in (standin.root / "models").iterdir():  # the pins cannot match fake weights: trust the cache
        stat = path.resolve().stat()
        entries[f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"] = pins.get(path.name, sha256_file(path))
    cache.write_text(json.dumps(entries))
    monkeypatch.setenv("NV_GENERATE_ROOT", str(standin.root))
    monkeypatch.setenv("MEDSKILLS_ALLOW_NO_GPU", "1")
    monkeypatch.setenv("MEDSKILLS_WEIGHT_HASH_CACHE", str(cache))
    (folder / "request.json").write_text(json.dumps(SMALL_CT_REQUEST))
    return standin


@pytest.fixture(scope="session")
def batch_tiny_bundle(tmp_path_factory: pytest.TempPathFactory, real_ctmr_bundle: Path) -> Path:
    """The segmentation tests' shrunken real NV-Segment-CTMR bundle (real configs and scripts), built once."""
    from integration.segmentation.conftest import write_tiny_bundle

    return write_tiny_bundle(tmp_path_factory.mktemp("batch-bundle") / "NV-Segment-CTMR",
                             real_bundle=real_ctmr_bundle)


def write_manifest(folder: Path, text: str) -> Path:
    path = folder / "batch.yaml"
    path.write_text(text)
    return path
