"""The nodes and kinds the inventory knows, so that a typo is refused with a suggestion.

A node is known when it holds numbers or is above a node that does (read
from `Inventory.utilization`, which counts without walking records). A
command that only finds or changes numbers refuses any other node, naming
the closest known ones; `range add` creates nodes, but refuses to start a
new tree (a root no number has yet) unless told to with `--new-root`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import click

from numinv.cli.errors import Failure, suggestion

if TYPE_CHECKING:
    from numinv import Inventory

__all__ = ["check_new_node", "check_node", "known_nodes", "resolve_kind", "short_kinds"]


def known_nodes(inventory: Inventory) -> set[str]:
    """Every node holding numbers, and every node above one."""
    known: set[str] = set()
    for node in inventory.utilization():
        parts = node.split(".")
        known.update(".".join(parts[: end + 1]) for end in range(len(parts)))
    return known


def check_node(
    inventory: Inventory, node: str | None, *, what: str = "node", new: str = ""
) -> None:
    """Refuse a node with no numbers at or below it, suggesting the closest known ones
    (and `new`, the way to name a node that is new on purpose, when there is one)."""
    if node is None:
        return
    known = known_nodes(inventory)
    if node in known:
        return
    if not known:
        raise Failure(f"no {what} {_shown(node)}: the inventory holds no numbers yet")
    close = suggestion(node, known)
    if new:
        close = f"{close or '.'} {new}"
    raise Failure(f"no {what} {_shown(node)} in the inventory{close}")


def _shown(node: str) -> str:
    """A node as a message names it: as written, or quoted when it would not show as itself
    (empty, blank, or with spaces at its ends)."""
    return node if node and node.strip() == node else repr(node)


def check_new_node(
    inventory: Inventory, node: str, *, new_root: bool, offers_new_root: bool = True
) -> bool:
    """For `range add` and `range move`: whether `node` is new; refuse one outside every
    existing root (only `range add` offers `--new-root` to start a tree)."""
    from numinv import InvalidHierarchy
    from numinv.core.hierarchy import parse_path

    try:  # a malformed path is refused as such, not as a node outside every root
        parse_path(node)
    except InvalidHierarchy as error:
        raise Failure(str(error)) from error
    known = known_nodes(inventory)
    if node in known:
        return False
    roots = sorted(name for name in known if "." not in name)
    root = node.split(".", 1)[0]
    if roots and root not in roots and not new_root:
        listed = ", ".join(roots)
        start = (
            "Give --new-root to start a new tree."
            if offers_new_root
            else "Start a new tree with 'numinv range add --new-root' first."
        )
        close = suggestion(node, known) or "."
        raise Failure(f"{node} is outside every existing root ({listed}){close} {start}")
    return True


def short_kinds(kinds: Iterable[str]) -> dict[str, str]:
    """Each kind's last part (any case) -> the kind, for the last parts that are unique."""
    by_part: dict[str, list[str]] = {}
    for name in kinds:
        by_part.setdefault(name.rsplit("/", 1)[-1].lower(), []).append(name)
    return {part: names[0] for part, names in by_part.items() if len(names) == 1}


def resolve_kind(kinds: Mapping[str, object], text: str) -> str:
    """The kind named by `text`: a full name, or the one kind whose last part it is (any case).

    Raises:
        click.BadParameter: no such kind; the message names the closest ones.
    """
    if text in kinds:
        return text
    short = short_kinds(kinds)
    if text.lower() in short:
        return short[text.lower()]
    lowered = {name.lower(): name for name in kinds}
    if text.lower() in lowered:
        return lowered[text.lower()]
    # Compared in lower case; shown as a user would type it: the last part when unique.
    shown = {part: name.rsplit("/", 1)[-1] for part, name in short.items()}
    shown |= lowered
    close = suggestion(text.lower(), shown)
    if close:
        raise click.BadParameter(f"unknown consumer kind {text!r}{close}", param_hint="'--kind'")
    listed = ", ".join(sorted(name.rsplit("/", 1)[-1] for name in short.values()))
    raise click.BadParameter(
        f"unknown consumer kind {text!r}; known kinds: {listed} (or their full names)",
        param_hint="'--kind'",
    )
