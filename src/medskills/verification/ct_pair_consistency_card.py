"""The ct_pair_consistency_v1 card: each organ's worst slice with the label's and LiteMedSAM's outlines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.card import CardPanel, CardTable, write_card
from medskills.verification.ct_pair_consistency_measure import (
    OrganAgreement,
    OrganLabel,
    RasPair,
    SampleAgreement,
    SliceSegmenter,
    display_slice,
)

__all__ = ["LABEL_OUTLINE", "MODEL_OUTLINE", "outline_worst_slices", "write_consistency_card"]

LABEL_OUTLINE = 4  # green in the card's palette
MODEL_OUTLINE = 6  # red
_CT_WINDOW_HU = (-160.0, 240.0)


def _outline(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    from scipy import ndimage

    inner: npt.NDArray[np.bool_] = ndimage.binary_erosion(mask)
    return mask & ~inner


def outline_worst_slices(pair: RasPair, organs: list[OrganLabel], measured: list[OrganAgreement],
                         segmenter: SliceSegmenter) -> tuple[npt.NDArray[np.uint8], dict[str, int]]:
    """One uint8 RAS volume with both outlines on each organ's worst slice, and those slices' RAS indices.

    The LiteMedSAM mask is decoded again from the slice's kept embedding (no second encoding).
    """
    outlines = np.zeros(pair.labels.shape, dtype=np.uint8)
    worst: dict[str, int] = {}
    for organ, agreement in zip(organs, measured, strict=True):
        slice_agreement = min(agreement.slices, key=lambda item: item.dice)
        ras_index = next(k for k in range(pair.labels.shape[2]) if pair.file_slice_index(k) == slice_agreement.slice_index)
        label = display_slice(np.isin(pair.labels, organ.label_ids), ras_index)
        predicted = segmenter.segment(ras_index, np.array([slice_agreement.box_xyxy], dtype=np.float32)).masks[0]
        shown = np.zeros(label.shape, dtype=np.uint8)
        shown[_outline(label)] = LABEL_OUTLINE
        shown[_outline(predicted)] = MODEL_OUTLINE
        drawn = shown[::-1, ::-1].T  # back from the radiological display to RAS (x, y)
        plane = outlines[:, :, ras_index]
        plane[drawn > 0] = drawn[drawn > 0]
        worst[organ.anatomy] = ras_index
    return outlines, worst


def write_consistency_card(path: Path, *, status: str, samples: list[tuple[SampleAgreement, RasPair,
                                                                          npt.NDArray[np.uint8], dict[str, int]]]
                           ) -> tuple[Path | None, str | None]:
    """Write the card; returns ``(path, None)``, or ``(None, error)`` when writing fails (see core.card)."""
    panels, rows = [], []
    for sample, pair, outlines, worst in samples:
        for organ in sample.organs:
            worst_slice = min(organ.slices, key=lambda item: item.dice)
            panels.append(CardPanel(
                title=f"sample {sample.sample}: {organ.anatomy}, slice {worst_slice.slice_index} (Dice "
                      f"{worst_slice.dice:.3f})", image=pair.image, affine=pair.affine, label=outlines,
                window=_CT_WINDOW_HU, axial_index=worst[organ.anatomy],
                caption="green: the label's outline; red: LiteMedSAM's outline in the label's box (organs whose "
                        "worst slice is the same show too; coronal and sagittal views through the centre)"))
            rows.append([str(sample.sample), organ.anatomy, f"{organ.dice:.3f}",
                         ", ".join(f"{s.slice_index}: {s.dice:.3f}" for s in organ.slices)])
    table = CardTable(title="Dice per organ (pooled, and per slice)", header=["sample", "organ", "Dice", "slices"],
                      rows=rows)
    return write_card(path, title="CT image/label consistency (ct_pair_consistency_v1)",
                      subtitle="LiteMedSAM box prompts from the label", status=status, panels=panels, tables=[table])
