"""Collect every preflight finding in one pass, then decide: valid request? ready environment?

Checks never stop at the first problem. Request problems (bad keys, bad values) make the request
invalid; readiness problems (missing upstream, weights, GPU) only make the environment not ready, so
``--preflight-only`` can still validate a request on a machine with nothing installed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from medskills.core.errors import PreflightError, UsageError
from medskills.core.models import Check, CostEstimate, PreflightReport, Severity, preflight_status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings

__all__ = [
    "PreflightCollector",
    "check_gpu",
    "check_unknown_keys",
    "did_you_mean",
    "edit_distance",
    "parse_choice",
    "suggestion_text",
]


class PreflightCollector:
    """Accumulates errors and warnings; builds a :class:`PreflightReport` at the end."""

    def __init__(self) -> None:
        self._errors: list[Check] = []
        self._warnings: list[Check] = []

    def error(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        fix: str | None = None,
        blocks_request: bool = True,
    ) -> None:
        """Record an error. ``blocks_request=False`` marks a readiness problem, not a bad request."""
        self._errors.append(
            Check(code=code, severity=Severity.ERROR, message=message, field=field, fix=fix,
                  blocks_request=blocks_request)
        )

    def warning(self, code: str, message: str, *, field: str | None = None, fix: str | None = None) -> None:
        """Record a warning; it never blocks a run."""
        self._warnings.append(
            Check(code=code, severity=Severity.WARNING, message=message, field=field, fix=fix, blocks_request=False)
        )

    @property
    def has_request_errors(self) -> bool:
        """True when at least one error makes the request itself invalid."""
        return any(check.blocks_request for check in self._errors)

    @property
    def has_environment_errors(self) -> bool:
        """True when at least one error is a readiness problem."""
        return any(not check.blocks_request for check in self._errors)

    def report(self, *, cost: CostEstimate | None = None) -> PreflightReport:
        """Freeze the findings into a report."""
        return PreflightReport(
            status=preflight_status(request_valid=not self.has_request_errors,
                                    environment_ready=not self.has_environment_errors),
            request_valid=not self.has_request_errors,
            environment_ready=not self.has_environment_errors,
            errors=list(self._errors),
            warnings=list(self._warnings),
            cost=cost,
        )

    def raise_if_invalid(self) -> None:
        """Raise one :class:`PreflightError` listing every request error, if there are any."""
        problems = [_describe(check) for check in self._errors if check.blocks_request]
        if problems:
            raise PreflightError(f"preflight found {len(problems)} problem(s):\n- " + "\n- ".join(problems), problems)


def _describe(check: Check) -> str:
    where = f"{check.field}: " if check.field else ""
    fix = f" Fix: {check.fix}" if check.fix else ""
    return f"{where}{check.message}{fix}"


def edit_distance(left: str, right: str) -> int:
    """Levenshtein distance between two strings (insert, delete, substitute cost 1)."""
    previous = list(range(len(right) + 1))
    for i, left_char in enumerate(left, start=1):
        current = [i]
        for j, right_char in enumerate(right, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left_char != right_char)))
        previous = current
    return previous[-1]


def did_you_mean(word: str, choices: Iterable[str], *, max_distance: int = 4, limit: int = 3) -> list[str]:
    """Return up to ``limit`` choices close to ``word``: by edit distance, then by difflib similarity."""
    lowered = word.lower()
    scored = sorted((edit_distance(lowered, choice.lower()), choice) for choice in choices)
    close = [choice for distance, choice in scored if distance <= max_distance][:limit]
    if close:
        return close
    return difflib.get_close_matches(word, list(choices), n=limit, cutoff=0.6)


def suggestion_text(word: str, choices: Iterable[str]) -> str:
    """A "did you mean" clause, or an empty string when nothing is close."""
    close = did_you_mean(word, choices)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


ChoiceT = TypeVar("ChoiceT", bound=StrEnum)


def parse_choice(choices: type[ChoiceT], value: str, *, where: str) -> ChoiceT:
    """``choices(value)``, or a :class:`UsageError` saying ``where`` the value came from (a flag or a
    field), every choice and the closest ones: the boundary conversion of house rule 8."""
    try:
        return choices(value)
    except ValueError as err:
        names = [member.value for member in choices]
        raise UsageError(f"{where} {value!r} is not one of {', '.join(names)}.{suggestion_text(value, names)}") from err


def check_unknown_keys(collector: PreflightCollector, keys: Iterable[str], allowed: Iterable[str], *, where: str) -> None:
    """Report every key not in ``allowed`` (keys starting with ``_`` are comments and skipped)."""
    allowed_keys = sorted(allowed)
    for key in keys:
        if key.startswith("_") or key in allowed_keys:
            continue
        collector.error(
            "unknown_key",
            f"unknown key {key!r} in {where}.{suggestion_text(key, allowed_keys)}",
            field=key,
            fix=f"use one of: {', '.join(allowed_keys)} (prefix a key with '_' to keep it as a comment)",
        )


def check_gpu(collector: PreflightCollector, settings: Settings, device: DeviceInfo, *, needed_for: str) -> None:
    """Require CUDA, unless ``MEDSKILLS_ALLOW_NO_GPU=1`` turns the error into a recorded warning."""
    if device.cuda_available:
        return
    reason = device.import_error or "torch.cuda.is_available() is False"
    message = f"no CUDA device ({reason}); {needed_for} has no CPU path upstream."
    if settings.allow_no_gpu:
        collector.warning("no_gpu_allowed", message + " MEDSKILLS_ALLOW_NO_GPU=1 is set, so the run goes ahead.",
                          field="MEDSKILLS_ALLOW_NO_GPU")
        return
    collector.error(
        "no_gpu",
        message,
        field="CUDA",
        fix="run on a machine with an NVIDIA GPU and a CUDA build of torch, or set MEDSKILLS_ALLOW_NO_GPU=1 for an "
        "upstream build that runs on the CPU or a stand-in upstream",
        blocks_request=False,
    )
