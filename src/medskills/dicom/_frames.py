"""Encoded pixel frames and their decoding: the part of assembly that also runs in decode helper processes.

The helpers are forked, so frames reach them by inheritance, pixel data still on disk: whichever
process decodes a frame reads its bytes. Decoded arrays come back through shared memory
(:mod:`medskills.dicom.decoding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.pixels.decoders.base import get_decoder

__all__ = ["EncodedFrame", "FrameDecodeError", "decode_frame", "encoded_frame"]

_PREFERRED_PLUGIN = "pylibjpeg"
"""pydicom tries GDCM first when python-gdcm is installed; pylibjpeg-openjpeg decodes the real JPEG 2000
series with about 15% less CPU (benchmarks/dicom_zip_ingest.py), so it is asked for by name."""


@dataclass(frozen=True)
class EncodedFrame:
    """Where one slice's pixel data is stored, with the pixel-module values needed to decode it."""

    index: int
    file_name: str
    transfer_syntax: str
    dataset: Any  # pydicom.Dataset with its pixel data deferred: read by the process that decodes it
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric_interpretation: str
    planar_configuration: int


class FrameDecodeError(Exception):
    """A frame could not be decoded (truncated or corrupt data)."""

    def __init__(self, file_name: str, detail: str) -> None:
        super().__init__(file_name, detail)
        self.file_name = file_name
        self.detail = detail


def encoded_frame(index: int, file_name: str, dataset: Any) -> EncodedFrame:
    """One single-frame dataset's pixel-module values (its pixel data is read when decoded)."""
    try:
        return EncodedFrame(
            index=index, file_name=file_name, transfer_syntax=str(dataset.file_meta.TransferSyntaxUID),
            dataset=dataset, rows=int(dataset.Rows), columns=int(dataset.Columns),
            samples_per_pixel=int(dataset.get("SamplesPerPixel", 1) or 1),
            bits_allocated=int(dataset.BitsAllocated),
            bits_stored=int(dataset.get("BitsStored", dataset.BitsAllocated)),
            pixel_representation=int(dataset.get("PixelRepresentation", 0) or 0),
            photometric_interpretation=str(dataset.get("PhotometricInterpretation", "MONOCHROME2")),
            planar_configuration=int(dataset.get("PlanarConfiguration", 0) or 0),
        )
    except (AttributeError, KeyError, ValueError, TypeError, EOFError, OSError) as err:
        raise FrameDecodeError(file_name, f"{type(err).__name__}: {err}") from err


def decode_frame(frame: EncodedFrame) -> npt.NDArray[np.generic]:
    """Stored values of ``frame`` as a ``(rows, columns)`` array (no rescale), by pydicom's decoders."""
    # typed Any: pydicom 3.0 annotates **kwargs as DecodeOptions per keyword, which rejects every value
    decoder: Any = get_decoder(frame.transfer_syntax)
    plugin = _PREFERRED_PLUGIN if _PREFERRED_PLUGIN in decoder.available_plugins else ""
    try:
        array, _ = decoder.as_array(
            bytes(frame.dataset.PixelData), decoding_plugin=plugin, rows=frame.rows, columns=frame.columns,
            samples_per_pixel=frame.samples_per_pixel, bits_allocated=frame.bits_allocated, bits_stored=frame.bits_stored,
            pixel_representation=frame.pixel_representation,
            photometric_interpretation=frame.photometric_interpretation,
            planar_configuration=frame.planar_configuration,
            number_of_frames=1, pixel_keyword="PixelData",
        )
    except (NotImplementedError, RuntimeError, ValueError, TypeError, EOFError, OSError, AttributeError,
            KeyError) as err:
        raise FrameDecodeError(frame.file_name, f"{type(err).__name__}: {err}") from err
    if array.shape != (frame.rows, frame.columns):
        raise FrameDecodeError(frame.file_name, f"decoded shape {array.shape}, expected {(frame.rows, frame.columns)}")
    return np.asarray(array)

