"""The before/after card: the input with the brain-mask outline, the preprocessed image with its outline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from medskills.core.card import CardPanel, CardTable, write_card

if TYPE_CHECKING:
    from medskills.segmentation.brain_preprocess.pipeline import BrainPreprocessResult

__all__ = ["mask_outline", "write_preprocess_card"]


def mask_outline(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """A band about three voxels wide across the mask's boundary, wide enough to see on the card."""
    from scipy import ndimage

    solid = np.asarray(mask, dtype=bool)
    band = ndimage.binary_dilation(solid) & ~ndimage.binary_erosion(solid, iterations=2)
    return np.asarray(band, dtype=np.uint8)


def write_preprocess_card(path: Path, result: BrainPreprocessResult, *, status: str) -> tuple[Path | None, str | None]:
    """Write the card; like every card it records an error instead of failing the run."""
    output = result.output
    template_affine = np.asarray(output.template.affine, dtype=np.float64)
    panels = [
        CardPanel(title="Input T1 with the deepbrain brain-mask outline", image=result.input_array,
                  affine=result.input_affine, label=mask_outline(result.native_mask),
                  caption=f"input grid; mask {output.mask.volume_ml:.0f} mL"),
        CardPanel(title="Preprocessed (N4, white-matter normalised, 1 mm, affine to the template)",
                  image=result.preprocessed, affine=template_affine, label=mask_outline(result.template_mask > 0),
                  window=(0.0, 1.0), caption=output.template.name),
    ]
    seconds = ", ".join(f"{name} {value:.1f} s" for name, value in output.step_seconds.items())
    rows = [
        ["brain mask volume", f"{output.mask.volume_ml:.1f} mL (adult range {output.mask.adult_range_ml[0]:.0f}-"
                              f"{output.mask.adult_range_ml[1]:.0f} mL)"],
        ["mask components before cleanup", f"{output.mask.raw_component_count} (largest holds "
                                           f"{output.mask.main_component_fraction:.4f})"],
        ["white-matter peak (input, template)", f"{output.white_matter_peak_input:.2f}, "
                                                f"{output.white_matter_peak_template:.4f}"],
        ["registration", f"mean squares {output.transform.final_metric_value:.5f}; "
                         f"{output.transform.optimizer_stop_condition}"],
        ["template", f"{output.template.name}, sha256 {output.template.sha256[:12]}"],
        ["deepbrain weights sha256", output.weights_sha256],
        ["steps", seconds],
    ]
    return write_card(path, title="Brain T1 preprocessing", subtitle=str(output.preprocessed_path), status=status,
                      panels=panels, tables=[CardTable(title="Measurements", rows=rows)],
                      config_json=output.parameters.model_dump_json(indent=2))
