"""The `numinv` command: the inventory on a SQLite file, from a shell (needs `numinv[cli]`).

Only this package imports click and rich; `import numinv` never does. The
command itself lives in `numinv.cli.root`; `main` loads it so that a missing
extra is one line of advice, not a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.util import find_spec

__all__ = ["main"]

_EXTRA = ("click", "rich")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the `numinv` console script and `python -m numinv`)."""
    # rich is imported only by the commands that draw, so look for it without importing it.
    missing = [name for name in _EXTRA if name in sys.modules and sys.modules[name] is None]
    missing += [name for name in _EXTRA if name not in sys.modules and find_spec(name) is None]
    if missing:
        print(
            "numinv: error: the command line needs click and rich (numinv's cli extra): "
            "python3 -m pip install click rich",
            file=sys.stderr,
        )
        sys.exit(1)
    from numinv.cli.root import root, terminate_on_sigterm

    terminate_on_sigterm()
    root.main(args=list(argv) if argv is not None else None, prog_name="numinv")
