"""Dice and IoU for 117 classes on a 512x512x300 pair: one confusion matrix vs a per-class loop.

Run: python benchmarks/verify_dice.py [--repeats 3]

The anchor is the usual per-class loop (three boolean passes over the volume per class). Both run in
the same process on the same arrays; the script checks they agree and prints seconds and the ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from medskills.verification import confusion_matrix, overlap_per_class

SHAPE = (512, 512, 300)
NUM_CLASSES = 117


def make_pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Blocky 117-class reference (16x16x10 cells of 32x32x30 voxels) and a prediction shifted by 2 voxels."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, NUM_CLASSES + 1, size=(16, 16, 10), dtype=np.uint8)
    reference = coarse.repeat(32, axis=0).repeat(32, axis=1).repeat(30, axis=2)
    prediction = np.roll(reference, 2, axis=0)
    return prediction, reference


def per_class_loop(prediction: np.ndarray, reference: np.ndarray) -> dict[int, tuple[float, float]]:
    scores = {}
    for label_id in range(1, NUM_CLASSES + 1):
        p, r = prediction == label_id, reference == label_id
        intersection = int(np.count_nonzero(p & r))
        total = int(np.count_nonzero(p)) + int(np.count_nonzero(r))
        scores[label_id] = (2 * intersection / total, intersection / (total - intersection))
    return scores


def one_pass(prediction: np.ndarray, reference: np.ndarray) -> dict[int, tuple[float, float]]:
    matrix = confusion_matrix(prediction, reference, num_classes=NUM_CLASSES + 1)
    return {item.label_id: (item.dice or 0.0, item.iou or 0.0)
            for item in overlap_per_class(matrix, list(range(1, NUM_CLASSES + 1)))}


Scores = dict[int, tuple[float, float]]


def best_seconds(
    function: Callable[[np.ndarray, np.ndarray], Scores], *args: np.ndarray, repeats: int
) -> tuple[float, Scores]:
    timings: list[float] = []
    result: Scores = {}
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        timings.append(time.perf_counter() - start)
    return min(timings), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    prediction, reference = make_pair()
    loop_seconds, loop_scores = best_seconds(per_class_loop, prediction, reference, repeats=repeats)
    matrix_seconds, matrix_scores = best_seconds(one_pass, prediction, reference, repeats=repeats)
    assert all(np.allclose(loop_scores[k], matrix_scores[k]) for k in loop_scores), "methods disagree"
    print(f"workload: Dice+IoU, {NUM_CLASSES} classes, {'x'.join(map(str, SHAPE))} uint8, best of {repeats}")
    print(f"per-class loop (anchor):  {loop_seconds:8.3f} s")
    print(f"one confusion matrix:     {matrix_seconds:8.3f} s")
    print(f"speed-up:                 {loop_seconds / matrix_seconds:8.1f}x")


if __name__ == "__main__":
    main()
