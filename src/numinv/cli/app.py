"""The whole `numinv` command: the root group, whose commands load when they are used."""

from __future__ import annotations

from numinv.cli.root import root

__all__ = ["cli"]

cli = root
