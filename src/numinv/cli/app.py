"""The whole `numinv` command: the root group with every command added."""

from __future__ import annotations

from numinv.cli import files, lifecycle, lookups, ranges
from numinv.cli.root import root
from numinv.cli.simulate import simulate_command

__all__ = ["cli"]

cli = root
for command in (
    ranges.range_group,
    lookups.list_numbers,
    lookups.show,
    lookups.report,
    lifecycle.assign,
    lifecycle.assign_next,
    lifecycle.unassign,
    lifecycle.reserve,
    lifecycle.unreserve,
    lifecycle.cool,
    lifecycle.release,
    lifecycle.sweep,
    lifecycle.e164,
    lifecycle.service,
    files.audit,
    files.export,
    files.import_records,
    simulate_command,
):
    cli.add_command(command)
