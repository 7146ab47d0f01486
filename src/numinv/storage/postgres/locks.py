"""The advisory locks that serialise uniqueness checks.

Their keys, and the one order every transaction takes them in.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Final

import attrs

from numinv.core.journal import block_of, blocks
from numinv.core.numbers import NumberRange

_FEW: Final = 64  # numbers (or blocks) locked one by one at most
_LOCK_BUDGET: Final = 256  # advisory locks a transaction takes before it takes one for all


def _lock_key(schema: str, kind: str, text: str) -> int:
    name = f"{schema}\x1f{kind}\x1f{text}".encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(name, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# An advisory lock: where it sorts (the text of the numbers it covers, then its level:
# a block of a million, of a thousand, a number, an E.164 number), and its key.
_Lock = tuple[str, int, int]


def _lock(schema: str, level: int, text: str) -> _Lock:
    return (text, level, _lock_key(schema, "mkne"[level], text))


@attrs.frozen
class _Keys:
    """Advisory locks that make a uniqueness check and the write after it one step.

    READ COMMITTED lets two transactions both read that a number is free at
    two related nodes and both add it (the keys differ, so no index refuses
    either). So a read that a uniqueness check makes inside a transaction
    (`holding`, `within`, `with_e164`) first takes transaction-long locks on
    what it reads, and reads once they are granted: a second writer of the
    same numbers waits for the first to commit, then sees what it added.
    Locks are hierarchical, so that a range costs few of them: a number
    locks itself and shares its block of a thousand and its block of a
    million; a range of more numbers locks its blocks of a thousand and
    shares their blocks of a million; a range of more blocks locks its blocks
    of a million.

    Every transaction takes them in one order, that of the numbers they cover
    (a block before the numbers in it): a load that took its numbers' locks
    in the order of their keys' hashes deadlocked with an import checking the
    same numbers one by one, and both failed once their retries ran out.
    """

    shared: tuple[_Lock, ...]
    exclusive: tuple[_Lock, ...]
    everything: int  # the schema's own key, shared by every check

    @staticmethod
    def of_number(schema: str, number: str) -> _Keys:
        return _Keys(
            (_lock(schema, 0, number[:-6]), _lock(schema, 1, block_of(number))),
            (_lock(schema, 2, number),),
            _lock_key(schema, "*", ""),
        )

    @staticmethod
    def of_range(schema: str, numbers: NumberRange) -> _Keys:
        ends = (numbers.first, numbers.last)
        millions = {_lock(schema, 0, number[:-6]) for number in ends}
        if len(numbers) <= _FEW:  # at most two blocks of each size
            thousands = {_lock(schema, 1, block_of(number)) for number in ends}
            return _Keys(
                (*millions, *thousands),
                tuple(_lock(schema, 2, number) for number in numbers),
                _lock_key(schema, "*", ""),
            )
        pieces = list(blocks(numbers))
        if len(pieces) <= _FEW:
            return _Keys(
                tuple(millions),
                tuple(_lock(schema, 1, block_of(piece.first)) for piece in pieces),
                _lock_key(schema, "*", ""),
            )
        spanned = {_lock(schema, 0, piece.first[:-6]) for piece in pieces}
        return _Keys((), tuple(spanned), _lock_key(schema, "*", ""))

    @staticmethod
    def of_e164(schema: str, e164: str) -> _Keys:
        return _Keys((), (_lock(schema, 3, e164),), _lock_key(schema, "*", ""))


class _Refused(Exception):
    """A check's locks asked for without waiting were not all granted (`_Open.lock`):
    `alone`, only the number's own (another writer checks or changes that number), else
    a block's or the schema's (a range operation, an import); `escalating`, the schema's
    key alone, past `_LOCK_BUDGET`, while other checks share it."""

    def __init__(self, *, alone: bool, escalating: bool = False) -> None:
        super().__init__("refused")
        self.alone = alone
        self.escalating = escalating


def _wanted(keys: _Keys, locked: set[tuple[bool, int]]) -> list[tuple[tuple[str, int], bool, int]]:
    """The locks of `keys` not in `locked`, in the one order every transaction takes them
    (where they sort, whether exclusive, key): first a share of the schema's own key if
    nothing is held yet, or that key alone past `_LOCK_BUDGET` (see `_Open.lock`)."""
    wanted = sorted(
        {
            ((text, level), exclusive, key)
            for exclusive, locks in ((False, keys.shared), (True, keys.exclusive))
            for text, level, key in locks
            if (exclusive, key) not in locked
        }
    )
    if wanted and len(locked) + len(wanted) + 1 > _LOCK_BUDGET:
        return [(("", -1), True, keys.everything)]
    if wanted and not locked:
        wanted.insert(0, (("", -1), False, keys.everything))
    return wanted


@functools.lru_cache(maxsize=256)
def _lock_sql(exclusive: tuple[bool, ...], *, wait: bool = True) -> str:
    """Take the locks in the order given, each shared or not (`exclusive`); without
    waiting (`wait=False`), answering whether each was granted."""
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    calls = (f"{function}{'' if alone else '_shared'}(%s::bigint)" for alone in exclusive)
    return "SELECT " + ", ".join(calls)
