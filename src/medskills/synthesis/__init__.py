"""synthesis capability package: synthetic CT (paired image + label) and brain MRI through NV-Generate-CTMR."""

from medskills.synthesis.anatomy import (
    CONTROLLABLE_SLOTS,
    Anatomy,
    AnatomyListing,
    AnatomyTable,
    BodyRegion,
    list_anatomies,
    list_anatomies_for_settings,
    load_anatomy_table,
)
from medskills.synthesis.cost import estimate_ct_cost
from medskills.synthesis.ct_preflight import CTPreflight, run_ct_preflight
from medskills.synthesis.ct_record import CTOutputSection, CTRequestSection, CTSynthesisRecord, SampleEvidence
from medskills.synthesis.ct_request import CTRunRequest, CTVersion, InferenceSettings, MaskPath
from medskills.synthesis.ct_rflow import run_ct_synthesis

__all__ = [
    "CONTROLLABLE_SLOTS",
    "Anatomy",
    "AnatomyListing",
    "AnatomyTable",
    "BodyRegion",
    "CTOutputSection",
    "CTPreflight",
    "CTRequestSection",
    "CTRunRequest",
    "CTSynthesisRecord",
    "CTVersion",
    "InferenceSettings",
    "MaskPath",
    "SampleEvidence",
    "estimate_ct_cost",
    "list_anatomies",
    "list_anatomies_for_settings",
    "load_anatomy_table",
    "run_ct_preflight",
    "run_ct_synthesis",
]
