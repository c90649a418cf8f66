"""How the suite is collected: every test has a node id of its own, and files with slow tests start first.

pytest-xdist hands tests to its workers by node id, so two items sharing one id run once (schemathesis'
``schema.parametrize`` did this). With ``--dist loadfile --no-loadscope-reorder`` a worker takes whole
files in collection order; starting the files that hold slow tests first keeps one long file from running
alone at the end. A file's tests stay together, so its module fixtures are built once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol, TypeVar


class CollectedTest(Protocol):
    """What the rules read of a ``pytest.Item``."""

    @property
    def nodeid(self) -> str: ...

    def get_closest_marker(self, name: str) -> object | None: ...


T = TypeVar("T", bound=CollectedTest)


def shared_node_ids(items: Sequence[CollectedTest]) -> list[str]:
    """Node ids held by more than one collected test, sorted."""
    counts = Counter(item.nodeid for item in items)
    return sorted(nodeid for nodeid, count in counts.items() if count > 1)


def _file_of(item: CollectedTest) -> str:
    return item.nodeid.split("::", 1)[0]


def slow_first(items: Sequence[T]) -> list[T]:
    """Files holding a test marked ``slow`` first; files and the tests in each keep their collected order."""
    slow_files = {_file_of(item) for item in items if item.get_closest_marker("slow") is not None}
    return sorted(items, key=lambda item: _file_of(item) not in slow_files)
