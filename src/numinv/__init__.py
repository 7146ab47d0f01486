"""numinv: a telephone number inventory.

Which directory numbers exist, where in an organisation's hierarchy they may
be used, who uses them, and which are held back (reserved, cooling).

The public names load on first use, so that `import numinv` (and a command
line that only prints its help) costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numinv.audit import (
        AuditChange as AuditChange,
        AuditConflict as AuditConflict,
        AuditReport as AuditReport,
    )
    from numinv.core.hybrid import ServiceRow as ServiceRow
    from numinv.core.kinds import ConsumerKind as ConsumerKind, Cooling as Cooling
    from numinv.core.numbers import cucm_form as cucm_form
    from numinv.core.records import (
        Change as Change,
        Consumer as Consumer,
        Event as Event,
        NumberRecord as NumberRecord,
        Observation as Observation,
        ServiceType as ServiceType,
        Status as Status,
        Usage as Usage,
        Use as Use,
    )
    from numinv.errors import (
        ConcurrentUpdate as ConcurrentUpdate,
        Conflict as Conflict,
        DuplicateNumber as DuplicateNumber,
        InvalidHierarchy as InvalidHierarchy,
        InvalidInput as InvalidInput,
        InvalidNumber as InvalidNumber,
        InvalidTransition as InvalidTransition,
        InvalidTransitionTable as InvalidTransitionTable,
        NotFound as NotFound,
        NumInvError as NumInvError,
        StorageError as StorageError,
    )
    from numinv.inventory import Inventory as Inventory, RangeResult as RangeResult
    from numinv.settings import NodeSettings as NodeSettings, Settings as Settings
    from numinv.storage.memory import InMemoryRepository as InMemoryRepository
    from numinv.storage.protocol import (
        Query as Query,
        Repository as Repository,
        Transaction as Transaction,
    )
    from numinv.storage.sqlite import SqliteRepository as SqliteRepository
    from numinv.utilization import NodeUtilization as NodeUtilization, Utilization as Utilization

__version__ = "0.2.0"

# Where each public name lives.
_HOMES = {
    "AuditChange": "numinv.audit",
    "AuditConflict": "numinv.audit",
    "AuditReport": "numinv.audit",
    "Change": "numinv.core.records",
    "ConcurrentUpdate": "numinv.errors",
    "Conflict": "numinv.errors",
    "Consumer": "numinv.core.records",
    "ConsumerKind": "numinv.core.kinds",
    "Cooling": "numinv.core.kinds",
    "DuplicateNumber": "numinv.errors",
    "Event": "numinv.core.records",
    "InMemoryRepository": "numinv.storage.memory",
    "InvalidHierarchy": "numinv.errors",
    "InvalidInput": "numinv.errors",
    "InvalidNumber": "numinv.errors",
    "InvalidTransition": "numinv.errors",
    "InvalidTransitionTable": "numinv.errors",
    "Inventory": "numinv.inventory",
    "NodeSettings": "numinv.settings",
    "NodeUtilization": "numinv.utilization",
    "NotFound": "numinv.errors",
    "NumInvError": "numinv.errors",
    "NumberRecord": "numinv.core.records",
    "Observation": "numinv.core.records",
    "PostgresRepository": "numinv.storage.postgres",
    "Query": "numinv.storage.protocol",
    "RangeResult": "numinv.inventory",
    "Repository": "numinv.storage.protocol",
    "ServiceRow": "numinv.core.hybrid",
    "ServiceType": "numinv.core.records",
    "Settings": "numinv.settings",
    "SqliteRepository": "numinv.storage.sqlite",
    "Status": "numinv.core.records",
    "StorageError": "numinv.errors",
    "Transaction": "numinv.storage.protocol",
    "Usage": "numinv.core.records",
    "Use": "numinv.core.records",
    "Utilization": "numinv.utilization",
    "cucm_form": "numinv.core.numbers",
}

# `PostgresRepository` needs the `postgres` extra: importable by name, left out of `*`.
__all__ = sorted(name for name in _HOMES if name != "PostgresRepository")


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'numinv' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next look-up is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
