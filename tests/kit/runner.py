"""Run `RepositoryContract` against an adapter without pytest's collection: fast and bounded.

`run_contract` calls each test method of the contract in the order the class
defines them, expanding `pytest.mark.parametrize` and giving each call a
fresh repository (and a second one on the same database, when the test asks
for `second_repository` and the adapter can open one). It stops at the first
failure unless asked for all of them, and never runs longer than `budget`
seconds (a test already running is not interrupted: each is short).
"""

from __future__ import annotations

import inspect
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from numinv.storage.protocol import Repository
from numinv.testing.contract import RepositoryContract


@attrs.frozen
class Failure:
    test: str
    error: BaseException

    def __str__(self) -> str:
        first = str(self.error).strip().splitlines()
        return f"{self.test}: {type(self.error).__name__}: {first[0] if first else ''}"


@attrs.frozen
class Outcome:
    failures: tuple[Failure, ...]
    ran: int
    skipped: int
    seconds: float


def _cases(function: Callable[..., Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The parameter sets of a test: one per combination of its `parametrize` marks."""
    marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
    axes: list[list[tuple[str, dict[str, Any]]]] = []
    for mark in marks:
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        ids = mark.kwargs.get("ids")
        axis = []
        for index, value in enumerate(values):
            row = value if len(names) > 1 else (value,)
            label = ids[index] if ids else str(index)
            axis.append((label, dict(zip(names, row, strict=True))))
        axes.append(axis)
    for combination in itertools.product(*axes):
        label = "-".join(name for name, _ in combination)
        params: dict[str, Any] = {}
        for _, values in combination:
            params.update(values)
        yield (f"[{label}]" if label else ""), params


def tests_of(contract: type[RepositoryContract]) -> list[str]:
    names: dict[str, None] = {}
    for klass in reversed(contract.__mro__):
        for name in vars(klass):
            if name.startswith("test_"):
                names[name] = None
    return list(names)


def run_contract(
    make: Callable[[], Repository],
    *,
    contract: type[RepositoryContract] = RepositoryContract,
    second: Callable[[Repository], Repository | None] | None = None,
    first_only: bool = True,
    budget: float = 60.0,
    only: Callable[[str], bool] | None = None,
) -> Outcome:
    """Run the contract's tests on repositories from `make`; return what failed."""
    started = time.monotonic()
    failures: list[Failure] = []
    ran = skipped = 0
    suite = contract()
    for name in tests_of(contract):
        if only is not None and not only(name):
            continue
        method = getattr(suite, name)
        wanted = inspect.signature(method).parameters
        for label, params in _cases(getattr(contract, name)):
            if time.monotonic() - started > budget:
                return Outcome(tuple(failures), ran, skipped, time.monotonic() - started)
            repository = make()
            extra: Repository | None = None
            try:
                arguments = dict(params)
                if "repository" in wanted:
                    arguments["repository"] = repository
                if "second_repository" in wanted:
                    extra = second(repository) if second is not None else None
                    if extra is None:
                        skipped += 1
                        continue
                    arguments["second_repository"] = extra
                ran += 1
                method(**arguments)
            except pytest.skip.Exception:
                skipped += 1
            except (Exception, pytest.fail.Exception) as error:  # what we look for
                failures.append(Failure(name + label, error))
                if first_only:
                    return Outcome(tuple(failures), ran, skipped, time.monotonic() - started)
            finally:
                for opened in (extra, repository):
                    close = getattr(opened, "close", None)
                    if callable(close):
                        close()
    return Outcome(tuple(failures), ran, skipped, time.monotonic() - started)
