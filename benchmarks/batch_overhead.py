"""Batch overhead per job: a plain sequential loop vs `medskills batch` (local pool) vs Ray local mode.

Run: python benchmarks/batch_overhead.py [--jobs 20] [--workers 2] [--data ../shared/data]

Twenty small real jobs: `medskills verify segmentation` of the TotalSegmentator reference of
`ct_abdomen_3mm` against itself (a real verifier run over a real label map, about a second each).
The anchor is what a user would otherwise write: a shell-style loop running the same command
lines one after another. All three run the same command lines on the same files in one process
tree, one after another; the script prints seconds, seconds per job, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def job_arguments(data: Path) -> list[str]:
    reference = data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"
    return ["--prediction", str(reference), "--prediction-labels", "totalsegmentator", "--ground-truth",
            str(reference), "--reference-labels", "totalsegmentator"]


def sequential_loop(jobs: int, arguments: list[str], folder: Path) -> float:
    started = time.perf_counter()
    for index in range(jobs):
        subprocess.run([sys.executable, "-m", "medskills", "verify", "segmentation", *arguments, "--json",
                        str(folder / f"{index}.json")], check=True, capture_output=True)
    return time.perf_counter() - started


def batch(jobs: int, arguments: list[str], folder: Path, extra: list[str]) -> float:
    manifest = folder / "batch.jsonl"
    manifest.write_text("".join(json.dumps({"name": f"v{index}", "command": ["verify", "segmentation"],
                                            "argv": arguments}) + "\n" for index in range(jobs)))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "medskills", "batch", str(manifest), "--output-dir",
                           str(folder / "out"), *extra], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    report = json.loads(done.stdout)
    assert report["exit_code"] == 0, done.stderr
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "batch_overhead.json")
    options = parser.parse_args()
    arguments = job_arguments(options.data.resolve())
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        for name in ("loop", "pool1", "pool", "ray"):
            (root / name).mkdir()
        seconds = {
            "sequential_loop": sequential_loop(options.jobs, arguments, root / "loop"),
            "batch_local_workers_1": batch(options.jobs, arguments, root / "pool1", ["--workers", "1"]),
            f"batch_local_workers_{options.workers}": batch(options.jobs, arguments, root / "pool",
                                                           ["--workers", str(options.workers)]),
            "batch_ray_local": batch(options.jobs, arguments, root / "ray", ["--ray", "local"]),
        }
    anchor = seconds["sequential_loop"]
    result = {
        "jobs": options.jobs,
        "job": "medskills verify segmentation (ct_abdomen_3mm reference against itself)",
        "seconds": {name: round(value, 2) for name, value in seconds.items()},
        "seconds_per_job": {name: round(value / options.jobs, 3) for name, value in seconds.items()},
        "overhead_seconds_per_job_vs_loop": {name: round((value - anchor) / options.jobs, 3)
                                             for name, value in seconds.items() if name != "sequential_loop"},
        "speed_vs_loop": {name: round(anchor / value, 2) for name, value in seconds.items()},
        "note": "one run; the batch times include reading and checking the manifest and writing the report",
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
