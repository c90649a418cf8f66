"""Plausible adult organ volumes and fragmentation limits, with the source of each range.

The ranges are engineering plausibility bounds for catching broken outputs (an empty liver, a
shattered spleen), widened well beyond the cited normal values; they are not diagnostic reference
ranges. An organ cut by the field of view (it touches a face of the volume) is only checked against
the upper bound, since any smaller volume is possible for a partial organ.
"""

from __future__ import annotations

from dataclasses import dataclass

from medskills.core.label_spaces import LabelSpace, load_anatomy_table, load_label_dictionary

__all__ = ["ORGAN_BOUNDS", "OrganBound", "organ_class_ids"]


@dataclass(frozen=True)
class OrganBound:
    """Volume range (mL) and minimum largest-component fraction of one organ, with its source.

    ``anatomy`` is a name in the shared anatomy table; the organ's voxels are those of every class
    whose anatomy is ``anatomy`` or one of its parts (lung lobes count towards their lung).
    """

    anatomy: str
    min_volume_ml: float
    max_volume_ml: float
    min_largest_component_fraction: float
    source: str


ORGAN_BOUNDS: tuple[OrganBound, ...] = (
    OrganBound("liver", 600.0, 3500.0, 0.9,
               "Heinemann A et al. Standard liver volume in the Caucasian population. Liver Transpl Surg "
               "1999;5(5):366-368 (adult liver volumes about 1000-2000 mL)."),
    OrganBound("spleen", 30.0, 1000.0, 0.9,
               "Prassopoulos P et al. Determination of normal splenic volume on computed tomography in "
               "relation to age, gender and body habitus. Eur Radiol 1997;7(2):246-248."),
    OrganBound("pancreas", 10.0, 250.0, 0.5,
               "Saisho Y et al. Pancreas volumes in humans from birth to age one hundred. Clin Anat "
               "2007;20(8):933-942 (adult mean about 70 mL, lower in old age). The fraction limit is low "
               "because the thin gland splits at coarse sampling (0.51 in the 3 mm TotalSegmentator "
               "reference of ct_abdomen_3mm)."),
    OrganBound("left kidney", 50.0, 400.0, 0.9,
               "Cheong B et al. Normal values for renal length and volume as measured by magnetic "
               "resonance imaging. Clin J Am Soc Nephrol 2007;2(1):38-45."),
    OrganBound("right kidney", 50.0, 400.0, 0.9,
               "Cheong B et al. Clin J Am Soc Nephrol 2007;2(1):38-45 (as for the left kidney)."),
    OrganBound("left lung", 500.0, 5000.0, 0.9,
               "Quanjer PH et al. Lung volumes and forced ventilatory flows. Eur Respir J 1993;6 Suppl "
               "16:5-40 (adult total lung capacity about 4-8 L, the left lung a little under half)."),
    OrganBound("right lung", 500.0, 5500.0, 0.9,
               "Quanjer PH et al. Eur Respir J 1993;6 Suppl 16:5-40 (as for the left lung)."),
    OrganBound("heart", 200.0, 1500.0, 0.9,
               "Kawel-Boehm N et al. Normal values for cardiovascular magnetic resonance in adults and "
               "children. J Cardiovasc Magn Reson 2015;17:29 (chamber and myocardial volumes)."),
    OrganBound("aorta", 20.0, 800.0, 0.5,
               "Hager A et al. Diameters of the thoracic aorta throughout life as measured with helical "
               "computed tomography. J Thorac Cardiovasc Surg 2002;123(6):1060-1066 (2-4 cm diameter over "
               "about 50 cm). A slab through the arch legitimately splits it in two, hence 0.5."),
    OrganBound("stomach", 20.0, 4000.0, 0.7,
               "Geliebter A. Gastric distension and gastric capacity in relation to food intake in humans. "
               "Physiol Behav 1988;44(4-5):665-668 (capacity up to about 4 L)."),
    OrganBound("gallbladder", 3.0, 200.0, 0.9,
               "Everson GT et al. A critical evaluation of real-time ultrasonography for the study of "
               "gallbladder volume and contraction. Gastroenterology 1980;79(1):40-46 (fasting volumes "
               "about 15-60 mL)."),
    OrganBound("bladder", 5.0, 1000.0, 0.9,
               "Abrams P et al. The standardisation of terminology of lower urinary tract function. "
               "Neurourol Urodyn 2002;21(2):167-178 (filling up to a normal capacity of several hundred mL)."),
    OrganBound("brain", 800.0, 2000.0, 0.9,
               "Courchesne E et al. Normal brain development and aging: quantitative analysis at in vivo "
               "MR imaging in healthy volunteers. Radiology 2000;216(3):672-682."),
)


def organ_class_ids(bound: OrganBound, space: LabelSpace) -> list[int]:
    """Class ids of ``space`` that belong to ``bound``'s organ (the organ itself and its parts)."""
    table = load_anatomy_table()
    dictionary = load_label_dictionary(space)
    ids = []
    for row in table.values():
        name = row.names[space]
        if name is None:
            continue
        anatomy: str | None = row.anatomy
        while anatomy is not None and anatomy != bound.anatomy:
            anatomy = table[anatomy].parent
        if anatomy is not None:
            ids.append(dictionary.id_of(name))
    return sorted(ids)
