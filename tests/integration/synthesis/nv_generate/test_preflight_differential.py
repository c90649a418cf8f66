"""Differential test: our CT preflight never accepts a request NV-Generate-CTMR's own input checks reject.

2,400 random override files (seeded) go through our request rules (``check_inference_config`` on
the real ``configs/config_infer.json`` and label dictionary) and, in one subprocess, through the
upstream code path ``scripts/inference.py`` takes before the first CUDA use (``check_input_ct`` /
``check_input_mr`` and the ``LDMSampler`` constructor; see ``standin_upstream/upstream_checks.py``).
Where ours is stricter, every rule that made the difference must be one listed in
``docs/real_upstreams.md`` (``STRICTER_RULES`` below mirrors that list).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from medskills.core.preflight import PreflightCollector
from medskills.synthesis.nv_generate.anatomy import CONTROLLABLE_SLOTS, REQUEST_BODY_REGIONS, load_anatomy_table
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from standin_upstream.snapshot import nv_generate_snapshot  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SEED = 20261129
REQUEST_COUNT = 2400
CHECKER = Path(__file__).resolve().parents[3] / "standin_upstream" / "upstream_checks.py"
DOCS = Path(__file__).resolve().parents[4] / "docs" / "real_upstreams.md"
# Our rule codes that may refuse a request upstream accepts; each is justified in docs/real_upstreams.md.
STRICTER_RULES = {
    "bad_value", "steps_out_of_range", "bad_modality", "guidance_invalid", "bad_extension", "bad_tp_splits",
    "bad_overlap", "bad_sliding_window", "duplicate_anatomy", "placeholder_anatomy", "unknown_body_region",
    "bad_type",
}


def _maybe(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def _pick(rng: np.random.Generator, values: list) -> object:
    return values[int(rng.integers(len(values)))]


def _names(rng: np.random.Generator, pool: list[str], typos: list[str], *, most: int) -> object:
    if _maybe(rng, 0.03):
        return _pick(rng, pool)  # a bare string instead of a list
    names = [_pick(rng, pool) for _ in range(int(rng.integers(0, most + 1)))]
    if names and _maybe(rng, 0.15):
        names[int(rng.integers(len(names)))] = _pick(rng, typos)
    if names and _maybe(rng, 0.05):
        names.append(names[0])
    return names


def _controllable(rng: np.random.Generator) -> object:
    if _maybe(rng, 0.5):
        return []
    if _maybe(rng, 0.03):
        return [[_pick(rng, list(CONTROLLABLE_SLOTS)), 0.5] for _ in range(11)]
    names = [*CONTROLLABLE_SLOTS, "spleen", "lung tumour"]
    sizes = [-1, 0, 0.3, 0.5, 0.8, 1.0, 1.2, -0.5, "0.5"]
    entries: list[object] = [[_pick(rng, names), _pick(rng, sizes)] for _ in range(int(rng.integers(1, 4)))]
    if _maybe(rng, 0.05):
        entries.append(["liver"])
    return entries


def _triple(rng: np.random.Generator, xy: list, z: list, *, equal: float) -> list:
    x = _pick(rng, xy)
    return [x, x if _maybe(rng, equal) else _pick(rng, xy), _pick(rng, z)]


def _request(rng: np.random.Generator, anatomy: list[str]) -> dict[str, object]:
    candidates = {
        "body_region": lambda: _names(rng, list(REQUEST_BODY_REGIONS), ["chest/thorax", "Chest", "neck"], most=3),
        "anatomy_list": lambda: _names(rng, anatomy, ["lung tumour", "Liver", "kidney"], most=4),
        "controllable_anatomy_size": lambda: _controllable(rng),
        "output_size": lambda: _triple(rng, [128, 256, 384, 512, 500, 256.0], [64, 128, 256, 384, 640, 768, 700],
                                       equal=0.85),
        "spacing": lambda: _triple(rng, [0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 3.5], [0.4, 0.5, 1.0, 2.0, 5.0, 6.0],
                                   equal=0.85),
        "autoencoder_sliding_window_infer_size": lambda: _pick(rng, [[48, 48, 48], [64, 64, 32], [80, 80, 96],
                                                                     [48, 48, 48], [40, 48, 48], [0, 16, 16],
                                                                     [-16, 16, 16]]),
        "autoencoder_sliding_window_infer_overlap": lambda: _pick(rng, [0, 0.25, 0.6666, 0.6666, 1.0, 1.2, -0.1]),
        "modality": lambda: _pick(rng, [1, 1, 1, 1, 1, 2, 7, 8, 9, 21, 0]),
        "num_output_samples": lambda: _pick(rng, [1, 1, 2, 0]),
        "num_inference_steps": lambda: _pick(rng, [30, 30, 30, 1000, 1001, 0]),
        "cfg_guidance_scale": lambda: _pick(rng, [0, 1.0, 2.5, -1]),
        "autoencoder_tp_num_splits": lambda: _pick(rng, [1, 2, 4, 3]),
        "image_output_ext": lambda: _pick(rng, [".nii.gz", ".nii.gz", ".nii", ".mha"]),
    }
    return {key: make() for key, make in candidates.items() if _maybe(rng, 0.4)}


def _our_verdict(overrides: dict, base: dict, table) -> list[str]:
    collector = PreflightCollector()
    check_inference_config(collector, {**base, **overrides}, table=table, version=CTVersion.RFLOW_CT)
    return sorted({check.code for check in collector.report().errors if check.blocks_request})


@pytest.fixture(scope="module")
def verdicts(nv_generate_snapshot: Path, tmp_path_factory) -> list[tuple[dict, list[str], str | None]]:
    rng = np.random.default_rng(SEED)
    label_dict = nv_generate_snapshot / "configs" / "label_dict.json"
    anatomy = list(json.loads(label_dict.read_text()))
    requests = [_request(rng, anatomy) for _ in range(REQUEST_COUNT)]
    batch = tmp_path_factory.mktemp("differential") / "requests.json"
    batch.write_text(json.dumps(requests))
    done = subprocess.run([sys.executable, str(CHECKER), str(batch)], cwd=nv_generate_snapshot, capture_output=True,
                          text=True, timeout=540, check=False,
                          env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
                               "HOME": str(batch.parent)})
    assert done.returncode == 0, done.stderr[-3000:]
    upstream = json.loads(done.stdout.strip().splitlines()[-1])
    base = json.loads((nv_generate_snapshot / "configs" / "config_infer.json").read_text())
    table = load_anatomy_table(upstream_label_dict=label_dict)
    return [(request, _our_verdict(request, base, table), verdict) for request, verdict in zip(requests, upstream,
                                                                                               strict=True)]


def test_nothing_upstream_rejects_passes_our_preflight(verdicts):
    leaks = [(request, upstream) for request, ours, upstream in verdicts if upstream is not None and not ours]
    assert leaks == [], leaks[:5]
    outcomes = Counter(("ours rejects" if ours else "ours accepts", "upstream rejects" if up else "upstream accepts")
                       for _, ours, up in verdicts)
    assert len(verdicts) >= 2000
    assert outcomes[("ours accepts", "upstream accepts")] >= 200, outcomes  # the sample exercises valid requests
    assert outcomes[("ours rejects", "upstream rejects")] >= 500, outcomes


def test_where_ours_is_stricter_every_rule_is_a_documented_one(verdicts):
    """Each request only we refuse carries at least one documented stricter rule (others may fire beside it)."""
    stricter = [(request, ours) for request, ours, upstream in verdicts if upstream is None and ours]
    unexplained = [(request, ours) for request, ours in stricter if not set(ours) & STRICTER_RULES]
    assert unexplained == [], unexplained[:5]
    documented = DOCS.read_text(encoding="utf-8")
    assert all(f"`{code}`" in documented for code in STRICTER_RULES)
