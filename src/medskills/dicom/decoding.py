"""Decode a series' slices, compressed ones on every available core.

The JPEG 2000 / JPEG-LS / JPEG decoders hold the GIL (pylibjpeg's and GDCM's bindings do not
release it), so threads do not help: compressed frames are decoded in one worker process per core
(see :func:`_worker_context`) while the caller places the decoded slices; a worker that dies is
replaced by decoding here. Uncompressed frames are only copied, in the calling process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

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
        workers: decoding processes (default: :func:`available_cores`); 1 decodes everything in
            the calling process.

    Raises:
        FrameDecodeError: a frame is truncated or corrupt (its file name is in the error).
    """
    total = available_cores() if workers is None else max(1, workers)
    is_compressed = any(frame.transfer_syntax not in _UNCOMPRESSED_SYNTAXES for frame in frames)
    if total < 2 or not is_compressed or len(frames) < MIN_FRAMES_FOR_WORKERS:
        yield from decode_chunk(tuple(frames))
        return
    yield from _decode_shared(frames, processes=total)


def _decode_shared(frames: Sequence[EncodedFrame], *,
                   processes: int) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    # Only the workers decode: a decoder call holds the GIL for a whole frame, and the pool's feeder
    # and result threads need the GIL to move frames and arrays, so a decoding caller starves them.
    size = max(1, min(_MAX_CHUNK_FRAMES, len(frames) // (4 * processes)))
    chunks = [tuple(frames[start:start + size]) for start in range(0, len(frames), size)]
    try:
        pool = ProcessPoolExecutor(max_workers=processes, mp_context=_worker_context())
    except OSError as err:  # no process could be created (limits, sandbox): decode here
        logger.warning("no decode worker (%s); decoding %d frames in this process", err, len(frames))
        yield from decode_chunk(tuple(frames))
        return
    try:
        futures = [pool.submit(decode_chunk, chunk) for chunk in chunks]
        for future, chunk in zip(futures, chunks, strict=True):
            yield from _result_or_local(future, chunk)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _result_or_local(future: Future[list[tuple[int, npt.NDArray[np.generic]]]],
                     chunk: tuple[EncodedFrame, ...]) -> list[tuple[int, npt.NDArray[np.generic]]]:
    """The worker's result; if the worker process died, the chunk decoded here (a decode error still raises)."""
    try:
        return future.result()
    except BrokenProcessPool as err:
        logger.warning("a decode worker died (%s); decoding its %d frames in this process", err, len(chunk))
        return decode_chunk(chunk)


def _worker_context() -> multiprocessing.context.BaseContext:
    """fork on Linux: workers start in milliseconds and never re-import the caller's ``__main__``
    (forkserver and spawn would run an unguarded script's top level again in each worker). The
    workers only decode bytes into numpy arrays, so the locks of the caller's other threads are not
    touched. spawn elsewhere, the platform's convention."""
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
