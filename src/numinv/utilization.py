"""Pool utilization per node, from the counts a repository keeps (no walk over records).

Each node is flagged `low` against the exhaustion threshold in force there
(`Inventory.configure`, SPEC 19); `rollup` adds up a node's whole subtree,
as a customer's view of all its sites and pools.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import attrs

from numinv.core import checks
from numinv.core.hierarchy import is_at_or_below, lineage, parse_path
from numinv.core.records import Status

__all__ = ["NodeUtilization", "Utilization", "utilization"]


@attrs.frozen
class NodeUtilization:
    """One node's numbers by status; `low` when the share Available is under `threshold`."""

    hierarchy: str
    counts: Mapping[Status, int]
    low: bool
    threshold: float = 0.10

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


# Inactive numbers (SPEC 20) are counted where a node has any; the five statuses of
# SPEC 4 always are.
_ALWAYS = tuple(status for status in Status if status is not Status.INACTIVE)


def _node(hierarchy: str, counts: Mapping[Status, int], threshold: float) -> NodeUtilization:
    full: dict[Status, int] = {status: counts.get(status, 0) for status in _ALWAYS}
    if counts.get(Status.INACTIVE):
        full[Status.INACTIVE] = counts[Status.INACTIVE]
    total = sum(full.values())
    share = full[Status.AVAILABLE] / total if total else 0.0
    return NodeUtilization(hierarchy, full, low=share < threshold, threshold=threshold)


@attrs.frozen
class Utilization(Mapping[str, NodeUtilization]):
    """Utilization of every node holding numbers, by node path.

    `threshold` is the report's (the one in force where it was asked);
    `in_force` the threshold in force at each node and each of its ancestors,
    what `rollup` judges a subtree by.
    """

    nodes: Mapping[str, NodeUtilization]
    threshold: float
    in_force: Mapping[str, float] = attrs.field(factory=dict, kw_only=True)

    def __getitem__(self, hierarchy: str) -> NodeUtilization:
        return self.nodes[hierarchy]

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def low(self) -> list[NodeUtilization]:
        """The nodes whose share Available is under their threshold."""
        return [node for node in self.nodes.values() if node.low]

    def rollup(self, hierarchy: str, *, threshold: float | None = None) -> NodeUtilization:
        """The numbers of `hierarchy` and every node below it, added up.

        `low` compares with `threshold`, or else the threshold in force at
        `hierarchy` (set there or inherited from the nearest ancestor that sets
        one, SPEC 19), or else this report's.
        """
        hierarchy = parse_path(hierarchy)
        if threshold is not None:
            threshold = checks.share(threshold, "threshold")
        totals: dict[Status, int] = dict.fromkeys(Status, 0)
        for name, node in self.nodes.items():
            if is_at_or_below(name, hierarchy):
                for status, count in node.counts.items():
                    totals[status] += count
        if threshold is None:
            known = (self.in_force.get(node) for node in lineage(hierarchy))
            threshold = next((found for found in known if found is not None), self.threshold)
        return _node(hierarchy, totals, threshold)


def utilization(
    counts: Mapping[str, Mapping[Status, int]],
    thresholds: Mapping[str, float],
    threshold: float,
) -> Utilization:
    """Utilization from per-node counts; each node judged by its threshold (or `threshold`).

    `thresholds` may name nodes holding no numbers too (ancestors): `rollup` reads them.
    """
    nodes = {
        hierarchy: _node(hierarchy, counts[hierarchy], thresholds.get(hierarchy, threshold))
        for hierarchy in sorted(counts)
    }
    in_force = {name: thresholds[name] for name in sorted(thresholds)}  # as `nodes`, sorted
    return Utilization(nodes, float(threshold), in_force=in_force)
