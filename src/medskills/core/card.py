"""Self-contained HTML summary card: embedded PNG triptychs with label overlay, tables, disclaimer.

Rendering is best effort by design: :func:`write_card` records an error instead of failing a run.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.io import write_text_atomic
from medskills.core.models import DISCLAIMER, utc_now

__all__ = [
    "ORIENTATION_LETTERS", "CardPanel", "CardTable", "label_colour_hex", "render_card_html", "render_triptych_png",
    "write_card",
]

logger = logging.getLogger(__name__)

OVERLAY_ALPHA = 0.45
_PALETTE_SIZE = 60


@dataclass(frozen=True)
class CardTable:
    """A table on the card: optional header row, then rows of already-formatted cells."""

    title: str
    rows: list[list[str]]
    header: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CardPanel:
    """One volume shown as an axial / coronal / sagittal triptych through its centre.

    ``image`` and ``label`` are in voxel-index order with ``affine`` mapping to RAS mm; they are
    reoriented to RAS for display (radiological: the patient's right on the viewer's left, letters
    on every edge). ``window`` is the grey-level range (HU for CT); ``None`` uses the 1st-99th
    percentile of the shown slices. ``label_names`` names the ids in the colour legend.
    """

    title: str
    image: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    label: npt.NDArray[np.generic] | None = None
    window: tuple[float, float] | None = None
    caption: str = ""
    label_names: dict[int, str] = field(default_factory=dict)
    axial_index: int | None = None  # axial slice (index along RAS axis 2) to show instead of the centre


# Edge letters of each view as drawn by _mid_slices: (left, right, top, bottom).
ORIENTATION_LETTERS = {"axial": ("R", "L", "A", "P"), "coronal": ("R", "L", "S", "I"),
                       "sagittal": ("A", "P", "S", "I")}


def _palette() -> npt.NDArray[np.float64]:
    """The overlay colours, indexed by ``label_id % _PALETTE_SIZE`` (RGBA rows)."""
    import matplotlib

    return np.vstack([getattr(matplotlib.colormaps[name], "colors") for name in ("tab20", "tab20b", "tab20c")])[
        :_PALETTE_SIZE]


def label_colour_hex(label_id: int) -> str:
    """The overlay colour of ``label_id`` as ``#rrggbb``, the same one the triptych draws."""
    red, green, blue = (int(round(channel * 255)) for channel in _palette()[label_id % _PALETTE_SIZE][:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def _to_ras(array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64]) -> npt.NDArray[np.generic]:
    import nibabel as nib

    ornt = nib.orientations.io_orientation(affine)
    return np.asarray(nib.orientations.apply_orientation(array, ornt))


def _ras_spacing(affine: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    import nibabel as nib

    ornt = nib.orientations.io_orientation(affine)
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    ras = np.empty(3)
    ras[ornt[:, 0].astype(int)] = spacing
    return ras


def _mid_slices(volume: npt.NDArray[np.generic], axial_index: int | None = None) -> list[npt.NDArray[np.generic]]:
    """Axial, coronal, sagittal centre slices of a RAS array, flipped for radiological display."""
    i, j, k = (n // 2 for n in volume.shape[:3])
    k = k if axial_index is None else axial_index
    return [volume[:, :, k].T[::-1, ::-1], volume[:, j, :].T[::-1, ::-1], volume[i, :, :].T[::-1, ::-1]]


def render_triptych_png(panel: CardPanel) -> bytes:
    """Render ``panel`` to PNG bytes with matplotlib (Agg backend, imported lazily)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    image = _to_ras(np.asarray(panel.image), panel.affine)
    spacing = _ras_spacing(panel.affine)
    slices = _mid_slices(image, panel.axial_index)
    label_slices = (_mid_slices(_to_ras(np.asarray(panel.label), panel.affine), panel.axial_index)
                    if panel.label is not None else None)
    if panel.window is None:
        shown = np.concatenate([s.ravel() for s in slices]).astype(np.float64)
        low, high = np.percentile(shown[np.isfinite(shown)], [1, 99]) if shown.size else (0.0, 1.0)
    else:
        low, high = panel.window
    colormap = ListedColormap(_palette())
    aspects = [spacing[1] / spacing[0], spacing[2] / spacing[0], spacing[2] / spacing[1]]
    figure, axes = plt.subplots(1, 3, figsize=(12, 4.4), facecolor="black")
    for index, (axis, name) in enumerate(zip(axes, ("axial", "coronal", "sagittal"), strict=True)):
        axis.imshow(slices[index], cmap="gray", vmin=low, vmax=high, aspect=aspects[index], interpolation="nearest")
        if label_slices is not None:
            ids = np.rint(label_slices[index]).astype(np.int64)
            overlay = np.ma.masked_where(ids == 0, ids % _PALETTE_SIZE)
            axis.imshow(overlay, cmap=colormap, vmin=0, vmax=_PALETTE_SIZE - 1, alpha=OVERLAY_ALPHA,
                        aspect=aspects[index], interpolation="nearest")
        axis.set_title(name, color="white", fontsize=11)
        left, right, top, bottom = ORIENTATION_LETTERS[name]
        for text, x, y in ((left, 0.02, 0.5), (right, 0.98, 0.5), (top, 0.5, 0.97), (bottom, 0.5, 0.03)):
            axis.text(x, y, text, transform=axis.transAxes, color="#ffd200", fontsize=12, fontweight="bold",
                      ha="center", va="center")
        axis.axis("off")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, facecolor="black")
    plt.close(figure)
    return buffer.getvalue()


def _window_text(panel: CardPanel) -> str:
    if panel.window is None:
        return "display window: 1st-99th percentile of the shown slices"
    return f"display window: {panel.window[0]:g} to {panel.window[1]:g}" + (" HU" if panel.window[0] < -100 else "")


def _legend(panel: CardPanel) -> list[dict[str, str]]:
    """Colour, id and name of each label present in the panel (empty without a label map)."""
    if panel.label is None:
        return []
    present = sorted(int(i) for i in np.unique(np.rint(np.asarray(panel.label))) if i != 0)
    return [{"colour": label_colour_hex(i), "id": str(i), "name": panel.label_names.get(i, "")} for i in present]


def render_card_html(
    *, title: str, subtitle: str, status: str, panels: list[CardPanel], tables: list[CardTable],
    config_json: str | None = None,
) -> str:
    """Render the whole card as one HTML string; a panel that fails to draw shows its error instead."""
    import jinja2

    rendered = []
    for panel in panels:
        described = {"title": panel.title, "caption": panel.caption, "window": _window_text(panel),
                     "legend": _legend(panel), "png_base64": None, "error": None}
        try:
            described["png_base64"] = base64.b64encode(render_triptych_png(panel)).decode("ascii")
        except Exception as err:  # a broken volume must not stop the card
            logger.warning("card panel %r not rendered: %s", panel.title, err)
            described["error"] = str(err)
        rendered.append(described)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("medskills.core", "templates"), autoescape=jinja2.select_autoescape(["html"])
    )
    return environment.get_template("card.html").render(
        title=title, subtitle=subtitle, status=status, panels=rendered, tables=tables, config_json=config_json,
        disclaimer=DISCLAIMER, generated_at=utc_now().strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def write_card(
    path: Path, *, title: str, subtitle: str, status: str, panels: list[CardPanel], tables: list[CardTable],
    config_json: str | None = None,
) -> tuple[Path | None, str | None]:
    """Write the card atomically. Returns ``(path, None)``, or ``(None, error)``; never raises."""
    try:
        html = render_card_html(title=title, subtitle=subtitle, status=status, panels=panels, tables=tables,
                                config_json=config_json)
        return write_text_atomic(path, html), None
    except Exception as err:  # the card is a convenience; the run's verdict never depends on it
        logger.warning("summary card not written: %s", err)
        return None, f"{type(err).__name__}: {err}"
