"""Decode a series' slices, compressed ones on every available core.

The JPEG 2000 / JPEG-LS / JPEG decoders hold the GIL (pylibjpeg's and GDCM's bindings do not
release it), so threads do not help. On Linux, one helper process per spare core is forked: it
inherits the frames (nothing is pickled in; each process reads the pixel data of the frames it
takes), and the calling process decodes beside it.
Each process takes the next frame from one shared counter, so a process that starts late or runs
on a busy core simply takes fewer. A helper copies each decoded frame into that frame's slot of an
anonymous shared memory block and sends the slot number down a pipe; the caller yields it from there
(nothing is pickled out either). A helper that fails on a frame, dies or falls silent is stopped, and
every frame it did not report is decoded in the calling process, so a corrupt frame raises there,
with its file name. Uncompressed frames are only copied, in the calling process.
"""

from __future__ import annotations

import logging
import mmap
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.dicom._frames import EncodedFrame, FrameDecodeError, decode_frame

__all__ = ["HELPER_SILENCE_SECONDS", "MIN_FRAMES_FOR_WORKERS", "available_cores", "decode_frames"]

logger = logging.getLogger(__name__)

MIN_FRAMES_FOR_WORKERS = 8
"""Fewer compressed frames than this are decoded in the calling process (a helper would not pay off)."""

HELPER_SILENCE_SECONDS = 60.0
"""A helper that reports no frame for this long is taken for hung: it is killed and its frames decoded here."""

_UNCOMPRESSED_SYNTAXES = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
                                    "1.2.840.10008.1.2.1.99"})


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def decode_frames(frames: Sequence[EncodedFrame], *,
                  workers: int | None = None) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    """Yield ``(frame.index, stored values)`` for every frame, in no particular order.

    A yielded array may be a view into shared memory whose pages are handed back once the generator
    resumes: place or copy it before asking for the next frame.

    Args:
        frames: the encoded slices.
        workers: decoding processes, the caller included (default: :func:`available_cores`); 1 decodes
            everything in the calling process, as does any platform but Linux (the helpers must be
            forked to inherit the frames, and ``spawn`` would re-run an unguarded script's top level)
            and a daemonic process (it may not have children).

    Raises:
        FrameDecodeError: a frame is truncated or corrupt (its file name is in the error).
    """
    total = available_cores() if workers is None else max(1, workers)
    is_compressed = any(frame.transfer_syntax not in _UNCOMPRESSED_SYNTAXES for frame in frames)
    if (total < 2 or not is_compressed or len(frames) < MIN_FRAMES_FOR_WORKERS or sys.platform != "linux"
            or multiprocessing.current_process().daemon):
        for frame in frames:
            yield frame.index, decode_frame(frame)
        return
    yield from _decode_beside_helpers(frames, helpers=total - 1)


@dataclass(frozen=True)
class _Helper:
    process: BaseProcess
    reports: Connection


@dataclass
class _FrameBoard:
    """What the caller and its forked helpers share: the next-frame counter, its lock, one slot per frame.

    The memory is an anonymous ``MAP_SHARED`` mapping, so a fork shares it; a slot's pages are handed
    back to the system (``MADV_REMOVE``) once the caller has used the frame in it.
    """

    frame_count: int
    slot_bytes: int
    lock: Any  # multiprocessing.synchronize.Lock of the fork context
    memory: mmap.mmap = field(init=False)
    counter: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        self.memory = mmap.mmap(-1, mmap.PAGESIZE + self.frame_count * self.slot_bytes)  # MAP_SHARED, anonymous
        self.counter = np.frombuffer(self.memory, dtype=np.int64, count=1)

    def claim(self) -> int | None:
        """The next unclaimed frame's position, or None when all are taken (or a holder of the lock died)."""
        if not self.lock.acquire(timeout=HELPER_SILENCE_SECONDS):
            return None
        try:
            position = int(self.counter[0])
            if position >= self.frame_count:
                return None
            self.counter[0] = position + 1
            return position
        finally:
            self.lock.release()

    def put(self, position: int, array: npt.NDArray[np.generic]) -> tuple[int, str, tuple[int, ...]] | None:
        """Copy a decoded frame into its slot and return the report the caller reads it back by
        (None if it does not fit: the caller decodes that frame itself)."""
        if array.nbytes > self.slot_bytes:
            return None
        self._slot(position, array.dtype, array.shape)[...] = array
        return position, array.dtype.str, array.shape

    def view(self, position: int, dtype: str, shape: tuple[int, ...]) -> npt.NDArray[np.generic]:
        return self._slot(position, np.dtype(dtype), shape)

    def release(self, position: int) -> None:
        try:
            self.memory.madvise(mmap.MADV_REMOVE, self._offset(position), self.slot_bytes)
        except OSError:  # a kernel without MADV_REMOVE for shared memory: the pages go with the mapping
            logger.debug("MADV_REMOVE refused; slot %d is freed with the mapping", position)

    def _offset(self, position: int) -> int:
        return mmap.PAGESIZE + position * self.slot_bytes

    def _slot(self, position: int, dtype: np.dtype[Any], shape: tuple[int, ...]) -> npt.NDArray[np.generic]:
        count = int(np.prod(shape))
        return np.frombuffer(self.memory, dtype=dtype, count=count, offset=self._offset(position)).reshape(shape)


def _slot_bytes(frames: Sequence[EncodedFrame]) -> int:
    """Room for the largest decoded frame (pydicom decodes to 1, 2 or 4 bytes a sample), in whole pages."""
    largest = max(f.rows * f.columns * f.samples_per_pixel * min(8, max(1, -(-f.bits_allocated // 8))) for f in frames)
    return -(-largest // mmap.PAGESIZE) * mmap.PAGESIZE


def _help(board: _FrameBoard, frames: Sequence[EncodedFrame], reports: Connection) -> None:
    """A helper's whole life: claim, decode, report, until no frame is left or one fails to decode."""
    try:
        while (position := board.claim()) is not None:
            report = board.put(position, decode_frame(frames[position]))
            if report is None:
                break
            reports.send(report)
    except FrameDecodeError:
        pass  # left unreported: the caller decodes it again and raises with the file name
    finally:
        reports.close()
    os._exit(0)  # nothing to flush or finalise in a forked decoder: exit at once, the caller does not wait


def _decode_beside_helpers(frames: Sequence[EncodedFrame], *,
                           helpers: int) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    context = multiprocessing.get_context("fork")
    board = _FrameBoard(len(frames), _slot_bytes(frames), context.Lock())
    started = _start_helpers(context, board, frames, helpers)
    done: set[int] = set()
    is_complete = False
    try:
        while (position := board.claim()) is not None:
            yield frames[position].index, decode_frame(frames[position])
            done.add(position)
            yield from _reported(board, frames, started, done, timeout=0.0)
        while started and len(done) < len(frames):  # every frame is claimed: collect the helpers' last ones
            yield from _reported(board, frames, started, done, timeout=HELPER_SILENCE_SECONDS)
        for position in range(len(frames)):
            if position not in done:  # a helper failed, died or hung on it
                yield frames[position].index, decode_frame(frames[position])
        is_complete = True
    finally:
        for helper in started:  # all frames done: these find nothing left to claim and exit by themselves
            if not is_complete:  # the caller stopped early (a frame failed to decode here)
                _kill(helper)
            helper.reports.close()


def _start_helpers(context: Any, board: _FrameBoard, frames: Sequence[EncodedFrame], count: int) -> list[_Helper]:
    started: list[_Helper] = []
    for _ in range(count):
        reports, sender = context.Pipe(duplex=False)
        process = context.Process(target=_help, args=(board, frames, sender), daemon=True,
                                  name="medskills-dicom-decode")
        try:
            process.start()
        except OSError as err:  # no process could be created (limits, sandbox): fewer helpers, or none
            logger.warning("no decode helper (%s); the calling process decodes more", err)
            reports.close()
            break
        finally:
            sender.close()  # the helper holds the only write end: its exit is the pipe's end
        started.append(_Helper(process, reports))
    return started


def _reported(board: _FrameBoard, frames: Sequence[EncodedFrame], helpers: list[_Helper], done: set[int], *,
              timeout: float) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    """Yield the frames the helpers reported; drop (and stop) a helper that ended, died or fell silent."""
    ready = wait([helper.reports for helper in helpers], timeout=timeout)
    if timeout > 0 and not ready:
        logger.warning("decode helpers silent for %.0f s; decoding their frames in this process", timeout)
        for helper in helpers:
            _kill(helper)
            helper.reports.close()
        helpers.clear()
        return
    for helper in [h for h in helpers if h.reports in ready]:
        try:
            position, dtype, shape = helper.reports.recv()
        except (EOFError, OSError):  # finished, or died: its unreported frames are decoded here at the end
            _log_if_died(helper)
            helper.reports.close()
            helpers.remove(helper)
            continue
        yield frames[position].index, board.view(position, dtype, shape)
        board.release(position)
        done.add(position)


def _kill(helper: _Helper) -> None:
    helper.process.kill()
    helper.process.join()


def _log_if_died(helper: _Helper) -> None:
    """Log a helper that ended otherwise than by finishing (one still exiting is reaped by multiprocessing later)."""
    helper.process.join(0)
    if helper.process.exitcode not in (0, None):
        logger.warning("a decode helper died (exit code %s); its unreported frames are decoded here",
                       helper.process.exitcode)
