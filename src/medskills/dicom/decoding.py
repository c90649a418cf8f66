"""Decode a series' slices, compressed ones on every available core.

The JPEG 2000 / JPEG-LS / JPEG decoders hold the GIL (pylibjpeg's and GDCM's bindings do not
release it), so threads do not help: compressed frames are decoded in worker processes started
from a forkserver (safe in threaded callers such as the web service). The calling process decodes
too: it takes chunks from the front while the workers take them from the back, and cancels the
chunks no worker has claimed, so a worker that starts late costs nothing. Uncompressed frames are
only copied, in the calling process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
import numpy.typing as npt

from medskills.dicom._frames import EncodedFrame, decode_chunk

__all__ = ["MIN_FRAMES_FOR_WORKERS", "available_cores", "decode_frames"]

logger = logging.getLogger(__name__)

MIN_FRAMES_FOR_WORKERS = 8
"""Fewer compressed frames than this are decoded in the calling process (a worker would not pay off)."""

_UNCOMPRESSED_SYNTAXES = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
                                    "1.2.840.10008.1.2.1.99"})
_MAX_CHUNK_FRAMES = 8


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def decode_frames(frames: Sequence[EncodedFrame], *,
                  workers: int | None = None) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    """Yield ``(frame.index, stored values)`` for every frame, in no particular order.

    Args:
        frames: the encoded slices.
        workers: decoding processes in total, the caller included (default: :func:`available_cores`);
            1 decodes everything in the calling process.

    Raises:
        FrameDecodeError: a frame is truncated or corrupt (its file name is in the error).
    """
    total = available_cores() if workers is None else max(1, workers)
    is_compressed = any(frame.transfer_syntax not in _UNCOMPRESSED_SYNTAXES for frame in frames)
    if total < 2 or not is_compressed or len(frames) < MIN_FRAMES_FOR_WORKERS:
        yield from decode_chunk(tuple(frames))
        return
    yield from _decode_shared(frames, extra_processes=total - 1)


def _decode_shared(frames: Sequence[EncodedFrame], *,
                   extra_processes: int) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    size = max(1, min(_MAX_CHUNK_FRAMES, len(frames) // (4 * (extra_processes + 1))))
    chunks = [tuple(frames[start:start + size]) for start in range(0, len(frames), size)]
    pool = ProcessPoolExecutor(max_workers=extra_processes, mp_context=_worker_context())
    try:
        futures: list[Future[list[tuple[int, npt.NDArray[np.generic]]]]] = [
            pool.submit(decode_chunk, chunk) for chunk in reversed(chunks)]
        pending = list(futures)
        for chunk in chunks:  # the front, while the workers work from the back
            claimed = pending.pop()
            if not claimed.cancel():
                pending.append(claimed)
                break
            yield from decode_chunk(chunk)
        for future in pending:
            yield from future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _worker_context() -> multiprocessing.context.BaseContext:
    """A forkserver (preloaded with the decoders) where available; spawn elsewhere."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["medskills.dicom._frames"])
    return context

