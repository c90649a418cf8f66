"""Acquisition plane from ImageOrientationPatient, and stacks ordered along their normal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import write_series
from medskills.dicom.geometry import AcquisitionPlane, GeometryRefusal, plane_of, stack_slices
from medskills.dicom.headers import group_series, scan_headers


@pytest.mark.parametrize(("orientation", "plane"), [
    ((1, 0, 0, 0, 1, 0), AcquisitionPlane.AXIAL),
    ((-1, 0, 0, 0, -1, 0), AcquisitionPlane.AXIAL),
    ((0, 1, 0, 0, 0, -1), AcquisitionPlane.SAGITTAL),
    ((1, 0, 0, 0, 0, -1), AcquisitionPlane.CORONAL),
    ((1, 0, 0, 0, np.cos(np.radians(25)), -np.sin(np.radians(25))), AcquisitionPlane.AXIAL),
    ((1, 0, 0, 0, np.cos(np.radians(45)), -np.sin(np.radians(45))), AcquisitionPlane.OBLIQUE),
])
def test_the_plane_is_named_by_the_patient_axis_nearest_the_normal(orientation: tuple[float, ...],
                                                                   plane: AcquisitionPlane) -> None:
    assert plane_of(tuple(float(v) for v in orientation)) is plane


@pytest.mark.parametrize("orientation", [None, (1.0, 0.0, 0.0), (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)])
def test_a_missing_or_degenerate_orientation_has_no_plane(orientation: tuple[float, ...] | None) -> None:
    assert plane_of(orientation) is None


def test_a_shuffled_coronal_stack_is_ordered_along_its_normal(tmp_path: Path) -> None:
    write_series(tmp_path, slices=6, orientation=(1, 0, 0, 0, 0, -1), slice_step_mm=2.5)
    [group] = group_series(scan_headers(reversed(sorted(tmp_path.iterdir()))))
    stack = stack_slices(group.instances)
    assert stack.plane is AcquisitionPlane.CORONAL and stack.slice_spacing_mm == pytest.approx(2.5)
    normal = np.cross([1, 0, 0], [0, 0, -1])
    along = [float(np.dot(i.position_mm, normal)) for i in stack.instances]
    assert along == sorted(along)


def test_a_degenerate_orientation_is_refused_as_inconsistent_geometry(tmp_path: Path) -> None:
    write_series(tmp_path, slices=4, orientation=(1, 0, 0, 1, 0, 0))
    [group] = group_series(scan_headers(tmp_path.iterdir()))
    with pytest.raises(GeometryRefusal) as caught:
        stack_slices(group.instances)
    assert caught.value.code == "inconsistent_geometry"
