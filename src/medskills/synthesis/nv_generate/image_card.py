"""The summary card of a generated image run (``OUT/summary.html``): the image and its request and gates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from medskills.core.card import CardPanel, CardTable, write_card
from medskills.core.models import GateResult, Status
from medskills.core.volumes import read_volume
from medskills.synthesis.nv_generate.image_evidence import ImageOutputSummary

__all__ = ["write_image_card"]


def write_image_card(
    output_dir: Path, *, title: str, subtitle: str, status: Status, output: ImageOutputSummary | None,
    request_rows: list[list[str]], gates: Sequence[GateResult], window: tuple[float, float] | None = None,
) -> tuple[Path | None, str | None]:
    """``summary.html``: a triptych of the first readable image (no overlay) plus request and gate tables.

    ``window`` None uses the 1st-99th percentile of the shown slices. Never raises (see ``write_card``).
    """
    readable = [image for image in (output.samples if output else []) if image.is_readable]
    panels = []
    if readable:
        volume = read_volume(readable[0].path)
        described = "1st-99th percentile" if window is None else f"[{window[0]:g}, {window[1]:g}]"
        panels.append(CardPanel(title=readable[0].path.name, image=volume.array, affine=volume.affine, window=window,
                                caption=f"axial / coronal / sagittal mid-slices; window {described}"))
    tables = [CardTable(title="Request", rows=request_rows),
              CardTable(title="Gates", header=["gate", "status", "message"],
                        rows=[[gate.gate, gate.status.value, gate.message] for gate in gates])]
    return write_card(output_dir / "summary.html", title=title, subtitle=subtitle, status=status.value,
                      panels=panels, tables=tables)
