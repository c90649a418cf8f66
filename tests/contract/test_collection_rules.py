"""The suite's collection rules: shared node ids are found, slow tests move to the front in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from collection_rules import shared_node_ids, slow_first


@dataclass
class FakeItem:
    nodeid: str
    markers: set[str] = field(default_factory=set)

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None


def test_a_node_id_held_by_two_tests_is_reported_once() -> None:
    items = [FakeItem("a.py::t"), FakeItem("b.py::t"), FakeItem("a.py::t"), FakeItem("a.py::t")]
    assert shared_node_ids(items) == ["a.py::t"]


def test_distinct_node_ids_report_nothing() -> None:
    assert shared_node_ids([FakeItem("a.py::t[1]"), FakeItem("a.py::t[2]")]) == []


def test_files_with_a_slow_test_come_first_whole_and_in_their_order() -> None:
    items = [FakeItem("a.py::1"), FakeItem("b.py::1"), FakeItem("b.py::2", {"slow"}), FakeItem("c.py::1"),
             FakeItem("d.py::1", {"slow"}), FakeItem("d.py::2")]
    assert [item.nodeid for item in slow_first(items)] == [
        "b.py::1", "b.py::2", "d.py::1", "d.py::2", "a.py::1", "c.py::1"]


def test_the_collected_suite_holds_no_shared_node_id(request) -> None:  # type: ignore[no-untyped-def]
    assert shared_node_ids(request.session.items) == []
