"""The `numinv` command: the inventory on a SQLite file, from a shell (needs `numinv[cli]`).

Only this package imports click and rich; `import numinv` never does. The
command itself lives in `numinv.cli.app`; `main` loads it so that a missing
extra is one line of advice, not a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_EXTRA = frozenset({"click", "rich"})


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the `numinv` console script and `python -m numinv`)."""
    try:
        from numinv.cli.app import cli
    except ImportError as error:
        if (error.name or "").partition(".")[0] not in _EXTRA:
            raise
        print(
            "numinv: error: the command line needs click and rich: pip install 'numinv[cli]'",
            file=sys.stderr,
        )
        sys.exit(1)
    cli.main(args=list(argv) if argv is not None else None, prog_name="numinv")
