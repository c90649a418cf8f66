"""Per-class evidence over a 512x512x300 label map with 132 classes: one bincount pass vs a per-label loop.

    /work/venv/bin/python benchmarks/segmentation_evidence.py [--repeats 3]

Both sides compute voxel counts and mL for every class present; the script checks they agree and prints
the median seconds and the ratio from the same run as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from medskills.core.volumes import label_statistics

SHAPE = (512, 512, 300)
CLASS_COUNT = 132
SPACING_MM = (0.8, 0.8, 1.5)


def make_label_map(seed: int = 0) -> np.ndarray:
    """Blocky label map: 132 classes in 8x8x10 tiles of random ids (0 = background)."""
    rng = np.random.default_rng(seed)
    tiles = rng.integers(0, CLASS_COUNT + 1, size=(SHAPE[0] // 8, SHAPE[1] // 8, SHAPE[2] // 10), dtype=np.int32)
    return np.repeat(np.repeat(np.repeat(tiles, 8, axis=0), 8, axis=1), 10, axis=2)


def per_label_loop(labels: np.ndarray, spacing_mm: tuple[float, float, float]) -> dict[int, tuple[int, float]]:
    """The anchor: one full pass over the volume per class id."""
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    result = {}
    for label_id in np.unique(labels):
        if label_id == 0:
            continue
        count = int((labels == label_id).sum())
        result[int(label_id)] = (count, round(count * voxel_ml, 4))
    return result


def one_pass(labels: np.ndarray, spacing_mm: tuple[float, float, float]) -> dict[int, tuple[int, float]]:
    """What the skill uses: ``core.volumes.label_statistics`` (one np.bincount)."""
    stats = label_statistics(labels, spacing_mm)
    return {entry.label_id: (entry.voxel_count, entry.volume_ml) for entry in stats.labels}


def _median_seconds(function, labels: np.ndarray, repeats: int) -> tuple[float, dict[int, tuple[int, float]]]:
    times, result = [], {}
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(labels, SPACING_MM)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    labels = make_label_map()
    bincount_seconds, fast = _median_seconds(one_pass, labels, arguments.repeats)
    loop_seconds, slow = _median_seconds(per_label_loop, labels, arguments.repeats)
    if fast != slow:
        raise SystemExit("the two methods disagree; the benchmark is invalid")
    print(json.dumps({"workload": f"{SHAPE} int32, {len(fast)} classes", "bincount_seconds": round(bincount_seconds, 3),
                      "per_label_loop_seconds": round(loop_seconds, 3),
                      "speedup": round(loop_seconds / bincount_seconds, 1), "repeats": arguments.repeats}))


if __name__ == "__main__":
    main()
