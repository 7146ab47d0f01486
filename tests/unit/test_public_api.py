"""The public surface promised by API.md: names, error tree, defaults, values, dependencies."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from enum import StrEnum
from pathlib import Path

import pytest

import numinv

# The import list of API.md's first code block (API.md lives outside the repository).
API_NAMES = [
    "Inventory",
    "Settings",
    "Consumer",
    "Observation",
    "NumberRecord",
    "Use",
    "Status",
    "Usage",
    "ServiceType",
    "Event",
    "AuditReport",
    "Repository",
    "InMemoryRepository",
    "SqliteRepository",
    "NumInvError",
    "InvalidInput",
    "InvalidNumber",
    "InvalidHierarchy",
    "NotFound",
    "Conflict",
    "DuplicateNumber",
    "InvalidTransition",
    "ConcurrentUpdate",
]

SOURCE = Path(numinv.__file__).parent


@pytest.mark.parametrize("name", API_NAMES)
def test_every_name_of_the_api_is_importable_from_numinv(name: str) -> None:
    assert getattr(numinv, name) is not None


@pytest.mark.parametrize("name", API_NAMES)
def test_every_name_of_the_api_is_listed_in_all(name: str) -> None:
    assert name in numinv.__all__


def test_the_sqlite_repository_implements_the_repository_protocol() -> None:
    assert isinstance(numinv.SqliteRepository(":memory:"), numinv.Repository)


def test_all_is_sorted() -> None:
    assert numinv.__all__ == sorted(numinv.__all__)


def test_all_has_no_name_twice() -> None:
    assert len(numinv.__all__) == len(set(numinv.__all__))


def test_every_name_in_all_exists() -> None:
    missing = [name for name in numinv.__all__ if not hasattr(numinv, name)]
    assert missing == []


# -- the error tree -----------------------------------------------------------------------

# Each error and its direct bases, as API.md draws the tree.
ERROR_TREE = {
    "NumInvError": ("Exception",),
    "InvalidInput": ("NumInvError", "ValueError"),
    "InvalidNumber": ("InvalidInput",),
    "InvalidHierarchy": ("InvalidInput",),
    "NotFound": ("NumInvError", "LookupError"),
    "Conflict": ("NumInvError",),
    "DuplicateNumber": ("Conflict",),
    "InvalidTransition": ("NumInvError",),
    "ConcurrentUpdate": ("NumInvError",),
}


@pytest.mark.parametrize(("name", "bases"), ERROR_TREE.items())
def test_each_error_has_exactly_the_bases_api_md_draws(name: str, bases: tuple[str, ...]) -> None:
    error = getattr(numinv, name)
    assert tuple(base.__name__ for base in error.__bases__) == bases


def test_invalid_input_and_its_children_are_value_errors() -> None:
    for name in ("InvalidInput", "InvalidNumber", "InvalidHierarchy"):
        assert issubclass(getattr(numinv, name), ValueError)


def test_not_found_is_a_lookup_error() -> None:
    assert issubclass(numinv.NotFound, LookupError)


def test_no_other_error_is_a_value_or_lookup_error() -> None:
    for name in ("Conflict", "DuplicateNumber", "InvalidTransition", "ConcurrentUpdate"):
        error = getattr(numinv, name)
        assert not issubclass(error, ValueError | LookupError)


def test_every_error_numinv_exports_is_a_numinv_error() -> None:
    # API.md allows additions (e.g. a storage error); each must hang under the one root.
    exported = [getattr(numinv, name) for name in numinv.__all__]
    errors = [
        value for value in exported if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert {error.__name__ for error in errors} >= set(ERROR_TREE)
    assert all(issubclass(error, numinv.NumInvError) for error in errors)


# -- settings and values ----------------------------------------------------------------------


def test_settings_defaults_match_api_md() -> None:
    default = numinv.Settings()
    assert (
        default.auto_cooling,
        default.cooling_days,
        default.audiocodes_cooling_days,
        default.teluri_prefix,
        default.max_range_size,
        default.prevent_duplicates,
    ) == (False, 30, 2, "+88800", 1_000_000, False)


def test_settings_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        numinv.Settings(True)  # type: ignore[misc]


def test_settings_are_frozen() -> None:
    settings = numinv.Settings()
    with pytest.raises(AttributeError):
        settings.cooling_days = 5  # type: ignore[misc]


def test_status_values_match_api_md() -> None:
    assert {member.name: member.value for member in numinv.Status} == {
        "AVAILABLE": "Available",
        "USED": "Used",
        "USED_UTILITY": "Used-Utility",
        "COOLING": "Cooling",
        "RESERVED": "Reserved",
        "INACTIVE": "Inactive",
    }


def test_usage_values_match_api_md() -> None:
    assert {member.name: member.value for member in numinv.Usage} == {
        "DEVICE": "Device",
        "USER": "User",
        "HUNT_PILOT": "Hunt_Pilot",
        "PICKUP_GROUP_PILOT": "Pickup_Group_Pilot",
        "CALL_HANDLER_PILOT": "Call_Handler_Pilot",
        "VOICEMAIL_PILOT": "Voicemail_Pilot",
        "MEET_ME": "Meet_Me",
        "CTI_ROUTE_POINT": "CTI_RoutePoint",
        "CALL_PARK": "Call_Park",
        "DIRECTED_CALL_PARK": "Directed_Call_Park",
        "VOSS_PHONE": "VOSS_Phone",
    }


def test_service_type_values_match_api_md() -> None:
    assert {member.value for member in numinv.ServiceType} == {
        "Cisco-MS-Hybrid",
        "Cisco-Only",
        "Cisco-No-Services",
        "MS-Only-Entvoice",
        "MS-Only-Hybrid",
        "MS-Only-No-Entvoice",
        "No-Hybrid-Service",
    }


@pytest.mark.parametrize("enum", ["Status", "Usage", "ServiceType"])
def test_the_value_enums_are_str_enums(enum: str) -> None:
    assert issubclass(getattr(numinv, enum), StrEnum)


def test_a_new_record_has_the_fields_api_md_promises_with_their_defaults() -> None:
    record = numinv.NumberRecord("1000", "sys")
    texts = ["tag", "description", "reservation_notes", *(f"extra{i}" for i in range(1, 10))]
    assert {name: getattr(record, name) for name in texts} == dict.fromkeys(texts, "")
    assert (record.status, record.usage, record.uses, record.vendor) == ("Available", (), (), "")
    assert (record.internal_number_type, record.release_date, record.reserved_for) == (
        "",
        None,
        None,
    )
    assert (record.e164, record.primary_e164, record.e164_display) == ((), None, "")
    assert isinstance(record.version, int)


def test_consumer_holds_kind_id_hierarchy_and_a_blank_vendor_by_default() -> None:
    consumer = numinv.Consumer("device/cucm/Phone", "SEP1", "sys.acme")
    assert (consumer.kind, consumer.id, consumer.hierarchy, consumer.vendor) == (
        "device/cucm/Phone",
        "SEP1",
        "sys.acme",
        "",
    )


@pytest.mark.parametrize(
    "value",
    [
        numinv.Consumer("device/cucm/Phone", "SEP1", "sys"),
        numinv.Observation("1000", numinv.Consumer("device/cucm/Phone", "SEP1", "sys")),
        numinv.NumberRecord("1000", "sys"),
        numinv.Settings(),
    ],
    ids=["Consumer", "Observation", "NumberRecord", "Settings"],
)
def test_the_value_classes_are_frozen(value: object) -> None:
    with pytest.raises(AttributeError):
        value.hierarchy = "sys.other"  # type: ignore[attr-defined]


def test_the_in_memory_repository_implements_the_repository_protocol() -> None:
    assert isinstance(numinv.InMemoryRepository(), numinv.Repository)


# -- dependencies --------------------------------------------------------------------------------

ALLOWED_THIRD_PARTY = {"attr", "attrs", "cattrs", "typing_extensions", "numinv"}
FORBIDDEN = {"click", "rich", "pytest", "hypothesis", "_pytest"}


@pytest.fixture(scope="module")
def imported_by_numinv() -> set[str]:
    """Top-level names of the modules a fresh `import numinv` loads."""
    script = (
        "import json, sys; before = set(sys.modules); import numinv; "
        "print(json.dumps(sorted({name.split('.')[0] for name in set(sys.modules) - before})))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(output))


def test_import_numinv_loads_no_cli_or_test_library(imported_by_numinv: set[str]) -> None:
    assert imported_by_numinv & FORBIDDEN == set()


def test_import_numinv_loads_nothing_beyond_the_standard_library_attrs_and_cattrs(
    imported_by_numinv: set[str],
) -> None:
    third_party = {
        name
        for name in imported_by_numinv
        if name not in sys.stdlib_module_names and not name.startswith("_")
    }
    assert third_party <= ALLOWED_THIRD_PARTY


def test_import_numinv_does_not_load_the_testing_kit() -> None:
    script = "import sys, numinv; print('numinv.testing' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


# -- the core imports nothing of the service, the adapters or the edges ------------------------

OUTER = (
    "numinv.inventory",
    "numinv.storage",
    "numinv.cli",
    "numinv.audit",
    "numinv.serialization",
    "numinv.simulation",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against numinv.core
                base = "numinv.core" if node.level == 1 else "numinv"
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


CORE_FILES = sorted((SOURCE / "core").glob("*.py"))


def test_the_core_package_has_modules_to_check() -> None:
    assert {path.name for path in CORE_FILES} >= {"numbers.py", "hierarchy.py", "records.py"}


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda path: path.name)
def test_a_core_module_imports_nothing_of_the_service_adapters_or_edges(path: Path) -> None:
    outward = {
        name
        for name in _imports(path)
        for outer in OUTER
        if name == outer or name.startswith(outer + ".")
    }
    assert outward == set()


def test_the_import_check_would_see_an_outward_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from numinv.storage.memory import InMemoryRepository\nimport numinv.cli\n")
    assert {"numinv.storage.memory", "numinv.cli"} <= _imports(module)
