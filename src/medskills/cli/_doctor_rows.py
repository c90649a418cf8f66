"""Doctor rows for the chest-CT triage service (the CLI joins capabilities; setup cannot import triage)."""

from __future__ import annotations

from medskills.setup.models import DoctorRow, RowStatus

__all__ = ["triage_rows"]

_PACK_FIX = "set MEDSKILLS_PACK_DIR to a model pack folder (see docs/triage_models.md)"


def triage_rows() -> list[DoctorRow]:
    """Pack, members and optional extras of the triage service, as doctor rows (area ``triage``)."""
    from medskills.triage.api.settings import ServiceSettings
    from medskills.triage.readiness import check_service_readiness

    settings = ServiceSettings()
    readiness = check_service_readiness(settings.pack_dir, is_builtin_allowed=settings.builtin_pack)
    rows = []
    if readiness.is_builtin_pack:
        rows.append(DoctorRow(
            area="triage", name="model pack", status=RowStatus.WARN, fix=_PACK_FIX + " for a probability",
            detail=f"built-in pack {readiness.model_version} ({', '.join(readiness.members)}): measurements and "
                   "rule-based findings, no probability (it has no stacker)"))
    elif readiness.pack_dir is None:
        rows.append(DoctorRow(area="triage", name="model pack", status=RowStatus.WARN, fix=_PACK_FIX,
                              detail="MEDSKILLS_PACK_DIR is not set and MEDSKILLS_BUILTIN_PACK is off: "
                                     "the service starts but is not ready"))
    elif readiness.pack_problem is not None:
        rows.append(DoctorRow(area="triage", name="model pack", status=RowStatus.FAIL,
                              detail=readiness.pack_problem, fix="fix or rebuild the pack named above"))
    else:
        stacker = "with stacker" if readiness.has_stacker else "members only (no stacker: cannot predict)"
        rows.append(DoctorRow(
            area="triage", name="model pack", status=RowStatus.OK if readiness.has_stacker else RowStatus.WARN,
            detail=f"{readiness.pack_dir} ({readiness.model_version}), {stacker}",
            fix=None if readiness.has_stacker else "medskills triage train-stacker FEATURES LABELS --base-pack PACK"))
        rows.append(DoctorRow(area="triage", name="pack members", status=RowStatus.OK,
                              detail=", ".join(readiness.members) or "none"))
    for extra in ("service", "models"):
        missing = readiness.missing_modules.get(extra, [])
        rows.append(DoctorRow(
            area="triage", name=f"extra: {extra}", status=RowStatus.WARN if missing else RowStatus.OK,
            detail=f"missing: {', '.join(missing)}" if missing else "installed",
            fix=f"pip install 'medskills[{extra}]'" if missing else None))
    return rows
