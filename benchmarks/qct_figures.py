"""Draw the two figures of ``docs/triage_qct.md`` from the real chest crop (and print their numbers).

    /work/venv/bin/python benchmarks/qct_figures.py

``docs/images/qct_lung_mask_coronal.png``: the lung mask (and the lung field it encloses) over a
coronal slice. ``docs/images/qct_metal_vs_contrast.png``: coronal and axial maximum-intensity
projections with each saturated component coloured by the rule that decided it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
CROP = ROOT.parent / "shared" / "data" / "ct_chest_crop_1p5mm" / "image.nii.gz"


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from medskills.dicom import read_nifti_volume
    from medskills.triage.lungs import segment_lungs
    from medskills.triage.metal import RULE_LABELS, DenseRule, segment_metal

    volume = read_nifti_volume(CROP)
    lungs = segment_lungs(volume)
    metal = segment_metal(volume)
    IMAGES.mkdir(parents=True, exist_ok=True)
    aspect = volume.spacing_mm[2] / volume.spacing_mm[0]

    row = int(np.argmax(lungs.mask.sum(axis=(0, 2))))  # the coronal slice holding the most lung
    figure, axis = plt.subplots(figsize=(4.2, 4.6), dpi=90)
    axis.imshow(volume.array[:, row, :].T, cmap="gray", vmin=-1000, vmax=400, origin="lower", aspect=aspect)
    overlay = np.where(lungs.mask[:, row, :], 1, np.where(lungs.field[:, row, :], 2, 0)).T
    axis.imshow(np.ma.masked_equal(overlay, 0), cmap=ListedColormap(["#1f77ff", "#ffbf00"]), vmin=1, vmax=2,
                alpha=0.45, origin="lower", aspect=aspect, interpolation="nearest")
    axis.set_title(f"lung mask {lungs.detection.lung_volume_ml:.0f} mL (blue), enclosed (amber)\n"
                   f"coronal slice {row}; touches: {', '.join(lungs.detection.border_faces)}", fontsize=8)
    axis.set_xlabel("patient left  <-  axis 0  ->  patient right", fontsize=7)
    axis.set_yticks([])
    axis.set_xticks([])
    figure.tight_layout()
    figure.savefig(IMAGES / "qct_lung_mask_coronal.png")
    plt.close(figure)

    colours = {DenseRule.METAL: "#ff2020", DenseRule.DENSE_CONTRAST: "#20d020", DenseRule.OUTSIDE_BODY: "#3080ff",
               DenseRule.TOO_SMALL: "#b0b0b0"}
    cmap = ListedColormap([colours[rule] for rule in DenseRule])
    figure, axes = plt.subplots(1, 2, figsize=(7.6, 4.2), dpi=90)
    for axis, project, title, ratio in ((axes[0], 1, "coronal MIP", aspect), (axes[1], 2, "axial MIP", 1.0)):
        axis.imshow(volume.array.max(axis=project).T, cmap="gray", vmin=-200, vmax=1500, origin="lower", aspect=ratio)
        labels = metal.labels.max(axis=project).T.astype(float)
        axis.imshow(np.ma.masked_equal(labels, 0), cmap=cmap, vmin=1, vmax=len(DenseRule), origin="lower",
                    aspect=ratio, interpolation="nearest")
        axis.set_title(title, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    legend = ", ".join(f"{rule.value} {metal.volume_ml(rule):.2f} mL" for rule in DenseRule)
    figure.suptitle(f">= 2000 HU by rule - red metal, green contrast, blue outside body, grey too small\n{legend}",
                    fontsize=8)
    figure.tight_layout()
    figure.savefig(IMAGES / "qct_metal_vs_contrast.png")
    plt.close(figure)
    numbers = {
        "lung_volume_ml": round(lungs.detection.lung_volume_ml, 1),
        "lung_field_ml": round(float(lungs.field.sum()) * float(np.prod(volume.spacing_mm)) / 1000.0, 1),
        "border_faces": list(lungs.detection.border_faces),
        "airway_volume_ml": round(lungs.detection.airway_volume_ml, 1),
        "components": {rule.value: sum(c.rule is rule for c in metal.components) for rule in DenseRule},
        "volume_ml": {rule.value: round(metal.volume_ml(rule), 3) for rule in DenseRule},
        "label_codes": {rule.value: code for rule, code in RULE_LABELS.items()},
    }
    print(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
