"""Pool utilization per node, from the counts a repository keeps (no walk over records)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import attrs

from numinv.core.records import Status
from numinv.errors import InvalidInput

__all__ = ["NodeUtilization", "Utilization", "utilization"]


@attrs.frozen
class NodeUtilization:
    """One node's numbers by status; `low` when the share Available is under the threshold."""

    hierarchy: str
    counts: Mapping[Status, int]
    low: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def available(self) -> int:
        return self.counts.get(Status.AVAILABLE, 0)

    @property
    def available_share(self) -> float:
        """Available numbers as a share of all numbers at the node (0.0 to 1.0)."""
        return self.available / self.total if self.total else 0.0


@attrs.frozen
class Utilization(Mapping[str, NodeUtilization]):
    """Utilization of every node holding numbers, by node path."""

    nodes: Mapping[str, NodeUtilization]
    threshold: float

    def __getitem__(self, hierarchy: str) -> NodeUtilization:
        return self.nodes[hierarchy]

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def low(self) -> list[NodeUtilization]:
        """The nodes whose share Available is under the threshold."""
        return [node for node in self.nodes.values() if node.low]


def utilization(counts: Mapping[str, Mapping[Status, int]], threshold: float) -> Utilization:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InvalidInput(f"the threshold must be a share from 0 to 1, not {threshold!r}")
    if not 0 <= threshold <= 1:
        raise InvalidInput(f"the threshold must be a share from 0 to 1, not {threshold!r}")
    nodes = {}
    for hierarchy in sorted(counts):
        full = {status: counts[hierarchy].get(status, 0) for status in Status}
        total = sum(full.values())
        share = full[Status.AVAILABLE] / total if total else 0.0
        nodes[hierarchy] = NodeUtilization(hierarchy, full, low=share < threshold)
    return Utilization(nodes, float(threshold))
