"""Progress of long work: what an upstream's output says while it runs, and in-process steps done of a total.

The upstreams print tqdm bars (``12/30 [00:03<00:04, ...]``: denoising steps, sliding windows) and a
line per saved file. :class:`UpstreamProgress` keeps the latest of each and says it in one line; it
never guesses what it cannot parse. In-process work (a verifier's volumes, the triage studies)
reports ``on_progress(done, total)`` (:data:`OnProgress`); only the command line draws it, on stderr.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

__all__ = ["OnProgress", "UpstreamProgress", "report_progress"]

OnProgress = Callable[[int, int], None]
"""Called with (steps done, steps in all) after each step of long in-process work."""


def report_progress(on_progress: OnProgress | None, done: int, total: int) -> None:
    """Tell ``on_progress`` (when there is one) that ``done`` of ``total`` steps are finished."""
    if on_progress is not None:
        on_progress(done, total)

_BAR = re.compile(r"(?:(?P<label>[A-Za-z][\w ]{0,40}):\s*)?(?:\d+%\|[^|]*\|\s*)?(?P<done>\d+)/(?P<total>\d+)\s*\[")
_SAVED = re.compile(r"\b(saved?|saving|writing)\b.*\.(nii(\.gz)?|dcm)\b", re.IGNORECASE)


class UpstreamProgress:
    """Progress of one upstream process, fed line by line (state: the latest bar and the save count)."""

    def __init__(self, name: str, *, started_monotonic: float | None = None) -> None:
        self.name = name
        self._started = time.monotonic() if started_monotonic is None else started_monotonic
        self._bar_label = ""
        self._done = self._total = 0
        self._bar_started = self._started
        self.samples_written = 0

    def feed(self, line: str, *, now: float | None = None) -> None:
        """Read one output line; a tqdm position or a saved-file line updates the state."""
        now = time.monotonic() if now is None else now
        match = _BAR.search(line)
        if match:
            done, total = int(match["done"]), int(match["total"])
            label = (match["label"] or "").strip()
            if total != self._total or label != self._bar_label or done < self._done:
                self._bar_started = now  # a new bar: the ETA restarts from here
            self._bar_label, self._done, self._total = label, done, total
        elif _SAVED.search(line):
            self.samples_written += 1

    def describe(self, *, now: float | None = None) -> str:
        """One status line: ``name: 12/30 steps · 1 sample written · 40 s elapsed, ~60 s left``."""
        now = time.monotonic() if now is None else now
        parts = [f"{self.name}:"]
        if self._total:
            parts.append(f"{self._done}/{self._total} {self._bar_label or 'steps'}")
        if self.samples_written:
            parts.append(f"· {self.samples_written} file(s) written")
        elapsed = now - self._started
        parts.append(f"· {elapsed:.0f} s elapsed")
        if self._total and 0 < self._done < self._total:
            rate = (now - self._bar_started) / self._done
            parts.append(f", ~{rate * (self._total - self._done):.0f} s left in this bar")
        return " ".join(parts).replace(" ,", ",")
