"""Triage ensemble members, one module each, and the loader that picks one by its ``kind``."""

from __future__ import annotations

from importlib import import_module

from medskills.triage.models._member import EnsembleMember, UnavailableMember
from medskills.triage.pack import LoadedPack
from medskills.triage.pack_manifest import MemberKind, MemberSpec

__all__ = ["EnsembleMember", "UnavailableMember", "load_member"]

_LOADERS: dict[MemberKind, tuple[str, str]] = {
    MemberKind.ASTRA: ("medskills.triage.models.astra", "load_astra_member"),
    MemberKind.CTCLIP: ("medskills.triage.models.ctclip", "load_ctclip_member"),
    MemberKind.SUPERVISED: ("medskills.triage.models.supervised", "load_supervised_member"),
    MemberKind.MEDNEXT: ("medskills.triage.models.mednext", "load_mednext_member"),
    MemberKind.DIFFUSION_ANOMALY: ("medskills.triage.models.diffusion_anomaly", "load_diffusion_anomaly_member"),
    MemberKind.FVLM: ("medskills.triage.models.fvlm", "load_fvlm_member"),
    MemberKind.QCT: ("medskills.triage.models.qct", "load_qct_member"),
}


def load_member(pack: LoadedPack, spec: MemberSpec) -> EnsembleMember:
    """Load one member (once). Absent weights give an :class:`UnavailableMember`; bad weights raise.

    Raises:
        ModelPackError: weights present but unsafe (pickles) or not matching the declared layout.
    """
    module_name, function_name = _LOADERS[MemberKind(spec.kind)]
    member: EnsembleMember = getattr(import_module(module_name), function_name)(pack, spec)
    return member
