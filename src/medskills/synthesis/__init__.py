"""synthesis capability package: synthetic CT (paired image + label) and brain MRI through NV-Generate-CTMR."""

from medskills.synthesis.nv_generate.anatomy import (
    CONTROLLABLE_SLOTS,
    Anatomy,
    AnatomyListing,
    AnatomyTable,
    BodyRegion,
    list_anatomies,
    list_anatomies_for_settings,
    load_anatomy_table,
)
from medskills.synthesis.nv_generate.cost import estimate_ct_cost
from medskills.synthesis.nv_generate.image_gates import ImageGate
from medskills.synthesis.paired_ct.gates import PairedCTGate
from medskills.synthesis.paired_ct.preflight import CTPreflight, run_ct_preflight
from medskills.synthesis.paired_ct.record import CTOutputSection, CTRequestSection, CTSynthesisRecord, SampleEvidence
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings, MaskPath
from medskills.synthesis.paired_ct.request import CTRunRequest
from medskills.synthesis.paired_ct.run import run_ct_synthesis
from medskills.synthesis.ct_from_mask.run import generate_ct_from_mask
from medskills.synthesis.ct_from_mask.record import CTFromMaskRecord
from medskills.synthesis.ct_from_mask.request import CTFromMaskRequest
from medskills.synthesis.ct_image.run import generate_ct_image
from medskills.synthesis.ct_image.request import CTImageRequest
from medskills.synthesis.ct_image.record import CTImageRecord
from medskills.synthesis.ct_mask.gates import CTMaskGate
from medskills.synthesis.ct_mask.run import generate_ct_masks
from medskills.synthesis.ct_mask.request import CTMaskRequest
from medskills.synthesis.ct_mask.record import CTMaskRecord
from medskills.synthesis.mr_brain.run import generate_mr_brain
from medskills.synthesis.mr_brain.request import MRBrainRequest
from medskills.synthesis.mr_brain.record import MRBrainRecord
from medskills.core.mr_brain_modality import MRBrainModality
from medskills.synthesis.nv_generate.user_mask import SourceLabels

__all__ = [
    "CTMaskGate",
    "ImageGate",
    "PairedCTGate",
    "CTFromMaskRecord",
    "CTFromMaskRequest",
    "CTImageRecord",
    "CTImageRequest",
    "CTMaskRecord",
    "CTMaskRequest",
    "MRBrainModality",
    "MRBrainRecord",
    "MRBrainRequest",
    "SourceLabels",
    "generate_ct_from_mask",
    "generate_ct_image",
    "generate_ct_masks",
    "generate_mr_brain",
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
