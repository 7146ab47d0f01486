"""numinv: a telephone number inventory.

Which directory numbers exist, where in an organisation's hierarchy they may
be used, who uses them, and which are held back (reserved, cooling).
"""

from typing import TYPE_CHECKING, Any

from numinv.audit import AuditChange, AuditConflict, AuditReport
from numinv.core.kinds import ConsumerKind, Cooling
from numinv.core.numbers import cucm_form
from numinv.core.records import (
    Consumer,
    Event,
    NumberRecord,
    Observation,
    ServiceType,
    Status,
    Usage,
    Use,
)
from numinv.errors import (
    ConcurrentUpdate,
    Conflict,
    DuplicateNumber,
    InvalidHierarchy,
    InvalidInput,
    InvalidNumber,
    InvalidTransition,
    NotFound,
    NumInvError,
    StorageError,
)
from numinv.inventory import Inventory, RangeResult
from numinv.settings import Settings
from numinv.storage.memory import InMemoryRepository
from numinv.storage.protocol import Query, Repository, Transaction
from numinv.storage.sqlite import SqliteRepository
from numinv.utilization import NodeUtilization, Utilization

if TYPE_CHECKING:
    from numinv.storage.postgres import PostgresRepository as PostgresRepository

__version__ = "0.1.0"

__all__ = [
    "AuditChange",
    "AuditConflict",
    "AuditReport",
    "ConcurrentUpdate",
    "Conflict",
    "Consumer",
    "ConsumerKind",
    "Cooling",
    "DuplicateNumber",
    "Event",
    "InMemoryRepository",
    "InvalidHierarchy",
    "InvalidInput",
    "InvalidNumber",
    "InvalidTransition",
    "Inventory",
    "NodeUtilization",
    "NotFound",
    "NumInvError",
    "NumberRecord",
    "Observation",
    "Query",
    "RangeResult",
    "Repository",
    "ServiceType",
    "Settings",
    "SqliteRepository",
    "Status",
    "StorageError",
    "Transaction",
    "Usage",
    "Use",
    "Utilization",
    "cucm_form",
]


def __getattr__(name: str) -> Any:
    """`numinv.PostgresRepository`, imported on first use: psycopg only when it is wanted."""
    if name == "PostgresRepository":
        try:
            from numinv.storage.postgres import PostgresRepository
        except ImportError as error:
            raise AttributeError(
                f"numinv.PostgresRepository needs the postgres extra "
                f"(pip install 'numinv[postgres]'): {error}"
            ) from error
        return PostgresRepository
    raise AttributeError(f"module 'numinv' has no attribute {name!r}")
