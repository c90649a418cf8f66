"""The MAISI anatomy table: packaged facts, upstream override with differences, listing filters."""

from __future__ import annotations

import json

import pytest

from medskills.core.errors import InputError, UsageError
from medskills.synthesis.nv_generate.anatomy import (
    CONTROLLABLE_SLOTS,
    BodyRegion,
    list_anatomies,
    load_anatomy_table,
    parse_region,
)


def test_packaged_table_has_132_ids_plus_body_and_8_placeholders():
    table = load_anatomy_table()
    ids = [entry.id for entry in table.entries]
    assert len(ids) == 133 and max(ids) == 200 and sorted(ids)[:-1] == list(range(1, 133))
    assert sum(entry.is_placeholder for entry in table.entries) == 8
    assert len(table.requestable_names()) == 125


def test_controllable_slots_follow_upstream_order():
    assert CONTROLLABLE_SLOTS[:2] == ("gallbladder", "liver") and CONTROLLABLE_SLOTS[5] == "lung tumor"
    by_name = load_anatomy_table().by_name()
    assert by_name["bone lesion"].controllable_slot == 9 and by_name["bone lesion"].is_tumor
    assert not by_name["spleen"].is_controllable


def test_regions_group_known_structures():
    table = load_anatomy_table()
    assert table.region_of("brain") == BodyRegion.HEAD and table.region_of("heart") == BodyRegion.CHEST
    assert table.region_of("liver") == BodyRegion.ABDOMEN and table.region_of("bladder") == BodyRegion.PELVIS
    assert table.region_of("left femur") == BodyRegion.LOWER and table.region_of("body") == BodyRegion.GENERAL


def test_upstream_table_is_used_and_differences_reported(tmp_path):
    table = load_anatomy_table()
    upstream = {entry.name: entry.id for entry in table.entries}
    upstream["liver"] = 140
    upstream["new thing"] = 141
    del upstream["spleen"]
    path = tmp_path / "label_dict.json"
    path.write_text(json.dumps(upstream))
    loaded = load_anatomy_table(upstream_label_dict=path)
    assert loaded.by_name()["liver"].id == 140 and "spleen" not in loaded.by_name()
    assert len(loaded.differences) == 3 and loaded.source == str(path)


def test_identical_upstream_table_reports_no_difference(tmp_path):
    path = tmp_path / "label_dict.json"
    path.write_text(json.dumps({entry.name: entry.id for entry in load_anatomy_table().entries}))
    assert load_anatomy_table(upstream_label_dict=path).differences == ()


def test_unreadable_upstream_table_is_an_input_error(tmp_path):
    path = tmp_path / "label_dict.json"
    path.write_text('{"liver": "one"}')
    with pytest.raises(InputError, match="integer ids"):
        load_anatomy_table(upstream_label_dict=path)


def test_thorax_is_an_alias_of_chest_and_unknown_region_suggests():
    assert parse_region("thorax") == BodyRegion.CHEST
    with pytest.raises(UsageError, match="'chest'"):
        parse_region("chst")


def test_listing_filters_by_region_controllable_and_substring():
    table = load_anatomy_table()
    tumors = list_anatomies(table, name_filter="TUMOR")
    assert {a.name for a in tumors.anatomies} == {"lung tumor", "pancreatic tumor", "hepatic tumor"}
    controllable = list_anatomies(table, is_controllable_only=True)
    assert [a.name for a in controllable.anatomies] == list(CONTROLLABLE_SLOTS)
    chest = list_anatomies(table, region=BodyRegion.CHEST, name_filter="lobe")
    assert chest.count == 5 and all(a.region == BodyRegion.CHEST for a in chest.anatomies)
    assert all(not a.is_placeholder for a in list_anatomies(table).anatomies)
