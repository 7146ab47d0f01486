"""Lock order on PostgreSQL: a uniqueness check's advisory locks come before rows.

A range operation takes its numbers' advisory locks, then their rows. A
single-number call with prevent-duplicates on took the row first (reading
its record), then the check's locks; a claim (`assign_next`) the same. Beside
a range operation of the same numbers the two deadlocked: with two writers of
single numbers and one `update_range` of them, 94 deadlocks in ten seconds,
and a seventh of the calls the same code made without prevent-duplicates.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from numinv import Consumer, Inventory, NumInvError, Settings
from numinv.core.numbers import number_range
from tests.integration.postgres.test_postgres_repository import _named

NODE = "sys.acme.uk"
FIRST = "+441000000000"
PHONE = "device/cucm/Phone"
GUARDED = Settings(prevent_duplicates=True)


@pytest.fixture
def open_store(postgres_url: str, schema: str) -> Iterator[Callable[..., Any]]:
    """Opens repositories on the test's schema (pool of one, a lock wait ends after 5 s),
    and closes them after the test."""
    from numinv.storage.postgres import PostgresRepository

    opened: list[Any] = []

    def open_one(name: str = "numinv-test") -> Any:
        url = _named(postgres_url, name)
        opened.append(PostgresRepository(url, schema=schema, pool_size=1, lock_timeout=5))
        return opened[-1]

    yield open_one
    for repository in opened:
        repository.close()


def _number(offset: int) -> str:
    return f"{int(FIRST) + offset:+d}"


@pytest.mark.parametrize("single", ["assign", "assign_next"])
def test_single_number_writers_beside_a_range_operation_lose_no_race(
    open_store: Callable[..., Any], single: str
) -> None:
    """Two instances give out and take back numbers one by one (`assign` of their own
    numbers, or `assign_next`), a third runs `update_range` over twenty of them, with
    prevent-duplicates on: nobody waits for a lock while holding a row another waits
    for, so no call deadlocks and none is run again."""
    Inventory(open_store(), settings=GUARDED).add_range(NODE, FIRST, count=40)
    stop = time.monotonic() + 2
    done: dict[str, int] = {}
    failed: list[str] = []
    retried: dict[str, int] = {}

    def writer(role: int) -> None:
        inventory = Inventory(open_store(), settings=GUARDED)
        count = 0
        try:
            while time.monotonic() < stop:
                if role == 2:
                    inventory.update_range(NODE, FIRST, count=20, tag=f"t{count}")
                else:
                    phone = Consumer(PHONE, f"SEP{role}x{count}", NODE)
                    if single == "assign":
                        number = inventory.assign(_number(2 * (count % 10) + role), phone).number
                    else:
                        number = inventory.assign_next(phone).number
                    inventory.unassign(number, phone)
                count += 1
        except NumInvError as error:
            failed.append(f"writer {role}: {type(error).__name__}: {error}")
        done[f"writer {role}"] = count
        retried[f"writer {role}"] = inventory.retried

    threads = [threading.Thread(target=writer, args=(role,)) for role in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failed == []
    assert retried == {"writer 0": 0, "writer 1": 0, "writer 2": 0}, (retried, done)
    assert all(count > 0 for count in done.values()), done


def _waiting_for_a_lock(sql: Any, name: str) -> int:
    """The pid of the backend named `name`, once it waits for an advisory lock."""
    deadline = time.monotonic() + 20
    while not (
        found := sql(
            "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
            " WHERE a.application_name = %s AND l.locktype = 'advisory' AND NOT l.granted",
            name,
        )
    ):
        assert time.monotonic() < deadline, f"{name} never waited for an advisory lock"
        time.sleep(0.01)
    pid: int = found[0][0]
    return pid


def _holds_rows(sql: Any, pid: int) -> bool:
    """Whether the backend's transaction has locked or written a row: either gives it a
    transaction id (`SELECT ... FOR UPDATE` marks the rows it locks with it)."""
    return bool(
        sql(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'transactionid' AND granted",
            pid,
        )
    )


class _Call(threading.Thread):
    """A call on its own thread, its answer or error kept."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__()
        self.call = call
        self.answer: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.answer = self.call()
        except BaseException as error:  # kept for the test to show
            self.error = error


CALLS: dict[str, Callable[[Inventory], Any]] = {
    "assign": lambda inventory: inventory.assign(FIRST, Consumer(PHONE, "SEP1", NODE)),
    "apply_service": lambda inventory: inventory.apply_service(FIRST, NODE, "al", "Cisco-Only"),
    "associate_e164": lambda inventory: inventory.associate_e164(FIRST, NODE, "+442079460000"),
}


@pytest.mark.parametrize("call", CALLS)
def test_a_check_waits_for_its_locks_before_it_holds_the_row(
    open_store: Callable[..., Any], sql: Any, call: str
) -> None:
    """Another writer holds the check's locks (as a range operation does), then asks for
    the number's row. The call waits for the locks holding no row, so the other writer
    gets the row, commits, and the call goes on: no deadlock, no call run again."""
    inventory = Inventory(open_store("numinv-call"), settings=GUARDED)
    inventory.add_range(NODE, FIRST, count=3)
    other = open_store("numinv-other")
    with other.transaction() as tx:
        if call == "associate_e164":
            tx.with_e164("+442079460000")
        else:
            tx.holding(FIRST)
        running = _Call(lambda: CALLS[call](inventory))
        running.start()
        waiting = _waiting_for_a_lock(sql, "numinv-call")
        assert not _holds_rows(sql, waiting)
        assert tx.get(FIRST, NODE) is not None  # the row it waits for was never taken
    running.join(30)
    assert running.error is None
    assert running.answer.number == FIRST
    assert inventory.retried == 0


def test_a_claim_looks_past_a_number_another_writer_is_checking(
    open_store: Callable[..., Any],
) -> None:
    """`assign_next` claims the first Available number; another writer holds that
    number's check locks. Waiting for them with the row held could deadlock, so the
    claim looks past the number, at once, and takes the next."""
    inventory = Inventory(open_store("numinv-call"), settings=GUARDED)
    inventory.add_range(NODE, FIRST, count=3)
    with open_store("numinv-other").transaction() as tx:
        tx.holding(FIRST)
        taken = inventory.assign_next(Consumer(PHONE, "SEP1", NODE))
    assert taken.number == _number(1)
    assert inventory.retried == 0
    assert inventory.get(FIRST, NODE).status == "Available"


@pytest.mark.parametrize("count", [3, 100], ids=["numbers", "blocks"])
def test_a_claim_refused_by_a_range_operation_waits_for_it_holding_no_row(
    open_store: Callable[..., Any], sql: Any, count: int
) -> None:
    """Another writer holds the check locks of every number there is (of each number of
    a short range, or of the blocks of a long one), then asks for a row. A claim finds
    every check refused, gives up its rows and runs again, first waiting for the locks
    with no row held; it is not told that no number is Available."""
    inventory = Inventory(open_store("numinv-call"), settings=GUARDED)
    inventory.add_range(NODE, FIRST, count=count)
    with open_store("numinv-other").transaction() as tx:
        tx.within(number_range(FIRST, count=count))  # a check of the range: its locks
        running = _Call(lambda: inventory.assign_next(Consumer(PHONE, "SEP1", NODE)))
        running.start()
        waiting = _waiting_for_a_lock(sql, "numinv-call")
        assert not _holds_rows(sql, waiting)
        assert tx.get(FIRST, NODE) is not None
    running.join(30)
    assert running.error is None
    assert running.answer.number == FIRST
    assert inventory.retried == 1


def _waiting_for_a_row(sql: Any, name: str) -> None:
    """Return once the backend named `name` waits for a lock that is not advisory: a row
    (another transaction's id, or a tuple)."""
    deadline = time.monotonic() + 20
    while not sql(
        "SELECT 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
        " WHERE a.application_name = %s AND l.locktype IN ('transactionid', 'tuple')"
        " AND NOT l.granted",
        name,
    ):
        assert time.monotonic() < deadline, f"{name} never waited for a row"
        time.sleep(0.01)


def test_a_claim_finding_every_available_row_held_waits_for_them(
    open_store: Callable[..., Any], sql: Any
) -> None:
    """Another writer holds the rows of every Available number (a range operation over
    the whole pool). `assign_next` skipped them all and said that no number was
    Available; it now waits for the first, as a store with one writer waits, and takes
    it once the other writer lets it go."""
    inventory = Inventory(open_store("numinv-call"))
    inventory.add_range(NODE, FIRST, count=3)
    with open_store("numinv-other").transaction() as tx:
        assert len(tx.within(number_range(FIRST, count=3), NODE)) == 3  # rows locked
        running = _Call(lambda: inventory.assign_next(Consumer(PHONE, "SEP1", NODE)))
        running.start()
        _waiting_for_a_row(sql, "numinv-call")
    running.join(30)
    assert running.error is None
    assert running.answer.number == FIRST
    assert inventory.retried == 0


def test_the_last_numbers_taken_by_other_claims_leave_nothing_to_find(
    open_store: Callable[..., Any], sql: Any
) -> None:
    """The number waited for was taken meanwhile: the claim looks on past it, and with
    nothing left says so (`NotFound`)."""
    from numinv import NotFound

    inventory = Inventory(open_store("numinv-call"))
    inventory.add_range(NODE, FIRST, count=1)
    other = Inventory(open_store("numinv-other"))
    with other.repository.transaction():
        other.assign_next(Consumer(PHONE, "SEP2", NODE))  # its row held until the commit
        running = _Call(lambda: inventory.assign_next(Consumer(PHONE, "SEP1", NODE)))
        running.start()
        _waiting_for_a_row(sql, "numinv-call")
    running.join(30)
    assert isinstance(running.error, NotFound)
    assert inventory.retried == 0


def test_a_claim_finding_only_duplicates_another_writer_checks_says_none_is_available(
    open_store: Callable[..., Any],
) -> None:
    """Every number of the pool also exists at a sibling node, and another writer checks
    each (an `assign` there, refused as a duplicate). The claim's check was refused, and
    it said the numbers were busy; what is committed already makes each a duplicate, so
    it looks past them and says that none is Available (SPEC 22)."""
    from numinv import NotFound

    inventory = Inventory(open_store("numinv-call"))
    for node in (NODE, f"{NODE}.b"):
        inventory.add_range(f"{node}.site" if node == NODE else node, FIRST, count=2)
    guarded = Inventory(open_store("numinv-call"), settings=GUARDED)
    with open_store("numinv-other").transaction() as tx:
        for offset in range(2):
            tx.holding(_number(offset))
        with pytest.raises(NotFound):
            guarded.assign_next(Consumer(PHONE, "SEP1", f"{NODE}.site"))
    assert guarded.retried == 0


def test_a_refusal_a_host_catches_keeps_its_next_call_from_waiting(
    open_store: Callable[..., Any],
) -> None:
    """In a host's transaction a claim's refused check reaches the host (its transaction
    cannot run again inside). The thread's next call, of other numbers, used to wait first
    for the writer the refusal named, whatever it was about; it goes at once now, and
    the refusal's `wait` is what waits for that writer."""
    from numinv import ConcurrentUpdate

    repository = open_store("numinv-call")
    inventory = Inventory(repository, settings=GUARDED)
    inventory.add_range(NODE, FIRST, count=100)
    inventory.add_range(f"{NODE}.other", "5000", count=1)
    other = open_store("numinv-other")
    refused: list[ConcurrentUpdate] = []
    with other.transaction() as tx:
        tx.within(number_range(FIRST, count=100))  # the blocks' locks, as a long range takes
        with pytest.raises(ConcurrentUpdate) as caught, repository.transaction():
            inventory.assign_next(Consumer(PHONE, "SEP1", NODE))
        refused.append(caught.value)
        taken = inventory.assign("5000", Consumer(PHONE, "SEP2", f"{NODE}.other"))
        assert taken.status == "Used"
        assert refused[0].wait is not None
        waiting = _Call(refused[0].wait)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # the writer is not done: the wait goes on
    waiting.join(30)
    assert waiting.error is None
    assert not waiting.is_alive()


def _advisory_locks_held(sql: Any, pid: int) -> int:
    found = sql(
        "SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND granted",
        pid,
    )
    count: int = found[0][0]
    return count


def _missing(count: int) -> list[Any]:
    """Observations of `count` numbers the inventory lacks, used by phones at NODE."""
    from numinv import Observation

    return [
        Observation(_number(1000 + offset), Consumer(PHONE, f"SEP9{offset}", NODE), hierarchy=NODE)
        for offset in range(count)
    ]


def test_an_audit_adding_hundreds_waits_for_other_checks_holding_no_lock(
    open_store: Callable[..., Any], sql: Any
) -> None:
    """An audit adding 300 missing numbers checks them one by one; past 256 locks it
    keeps every other check out with the schema's own key. It waited for that key
    holding its numbers' locks, so a writer (in a host's transaction, sharing the key)
    that then checked one of those numbers deadlocked with it, and the audit, which was
    not run again, failed. It now waits only a moment, and refused, runs again holding
    that key from the start: it waits holding nothing, the writer goes on, then the
    audit adds what is still missing."""
    from numinv import Inventory as Inv

    auditing = Inv(open_store("numinv-audit"), settings=GUARDED)
    auditing.add_range(NODE, FIRST, count=1)
    writer = Inv(open_store("numinv-writer"), settings=GUARDED)
    ready, go = threading.Event(), threading.Event()

    def write() -> str:
        with writer.repository.transaction():
            writer.assign(FIRST, Consumer(PHONE, "SEP1", NODE))  # shares the schema's key
            ready.set()
            go.wait(30)
            return str(writer.add_range(NODE, _number(1000), count=1))

    writing = _Call(write)
    writing.start()
    assert ready.wait(30)
    audit = _Call(lambda: auditing.audit(_missing(300), add_missing=True))
    audit.start()
    deadline = time.monotonic() + 20
    while _advisory_locks_held(sql, waiting := _waiting_for_a_lock(sql, "numinv-audit")):
        assert time.monotonic() < deadline, "the audit waits for the schema's key holding locks"
        time.sleep(0.01)  # it waits a moment (_ALONE_WAIT), then gives up what it holds
    assert not _holds_rows(sql, waiting)
    go.set()
    writing.join(30)
    audit.join(30)
    assert writing.error is None
    assert audit.error is None
    report = audit.answer
    assert len(report.conflicts) == 1  # the number the writer added meanwhile
    assert report.conflicts[0].number == _number(1000)
    assert auditing.retried == 1
    assert auditing.get(_number(1299), NODE).status == "Used"
    assert len(list(auditing.search(at=NODE, prefix="+4410000"))) == 301


def _deadlocks(sql: Any, names: list[str]) -> int:
    """The deadlocks the server has detected in this database, once the backends named
    `names` have gone (a backend reports its counts when it ends, or a second later)."""
    deadline = time.monotonic() + 20
    while sql("SELECT 1 FROM pg_stat_activity WHERE application_name = ANY(%s)", names):
        assert time.monotonic() < deadline, f"{names} never went"
        time.sleep(0.01)
    found = sql("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    count: int = found[0][0]
    return count


def test_an_import_past_the_lock_budget_beside_writers_of_its_numbers_deadlocks_nowhere(
    open_store: Callable[..., Any], sql: Any
) -> None:
    """An instance imports 300 numbers and deletes them, over and over, while a second
    gives out numbers one by one (`assign_next`) and a third assigns the imported numbers
    as they come: every call ends, none is refused but as its numbers' state says
    (`NotFound`, `InvalidTransition`), and the server detects no deadlock."""
    from numinv import InvalidTransition, NotFound

    imported = f"{NODE[:-3]}.fr"
    source = Inventory(open_store("numinv-setup"), settings=GUARDED)
    source.add_range(NODE, FIRST, count=10)
    source.add_range(imported, _number(2000), count=300)
    records = list(source.search(at=imported))
    source.delete_range(imported, _number(2000), count=300)
    names = [f"numinv-{role}" for role in range(3)]
    before = _deadlocks(sql, names)
    stop = time.monotonic() + 3
    failed: list[str] = []
    done: dict[str, int] = {}

    def work(role: int) -> None:
        repository = open_store(names[role])
        inventory = Inventory(repository, settings=GUARDED)
        count, present = 0, False
        try:
            while time.monotonic() < stop:
                if role == 0 and not present:
                    inventory.import_records(records)
                    present = True
                elif role == 0:
                    with contextlib.suppress(InvalidTransition):  # one is Used: next time
                        inventory.delete_range(imported, _number(2000), count=300)
                        present = False
                elif role == 1:
                    phone = Consumer(PHONE, f"SEP1x{count}", NODE)
                    inventory.unassign(inventory.assign_next(phone).number, phone)
                else:
                    phone = Consumer(PHONE, f"SEP2x{count}", imported)
                    with contextlib.suppress(NotFound):  # not imported at the moment
                        inventory.unassign(
                            inventory.assign(_number(2000 + count % 300), phone).number, phone
                        )
                count += 1
        except NumInvError as error:
            failed.append(f"{role}: {type(error).__name__}: {error}")
        done[names[role]] = count
        repository.close()

    threads = [threading.Thread(target=work, args=(role,)) for role in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failed == []
    assert all(count > 0 for count in done.values()), done
    assert _deadlocks(sql, names) == before


def test_checks_past_the_lock_budget_wait_a_moment_for_other_checks_to_end(
    open_store: Callable[..., Any], sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host's transaction checking 300 numbers moves to the schema's own key while
    another writer's check is under way; that check ends while it waits, and the host's
    transaction goes on. (Refused at once, it had to be run again; the moment is made
    long here so that the test sees the wait on a loaded machine.)"""
    from numinv.storage.postgres import held

    monkeypatch.setattr(held, "_ALONE_WAIT", 5.0)  # of the server's deadlock_timeout
    repository, other = open_store("numinv-host"), open_store("numinv-other")
    checked = threading.Event()

    def check_until_the_host_waits() -> None:
        with other.transaction() as tx:
            tx.holding(_number(5000))  # shares the schema's key until it ends
            checked.set()
            _waiting_for_a_lock(sql, "numinv-host")

    checking = _Call(check_until_the_host_waits)
    checking.start()
    assert checked.wait(20)
    with repository.transaction() as tx:
        for offset in range(300):
            tx.holding(_number(offset))
    checking.join(30)
    assert checking.error is None


def test_checks_past_the_lock_budget_refused_leave_a_host_transaction_usable(
    open_store: Callable[..., Any],
) -> None:
    """Another writer's check lasts longer than the moment: the host's transaction is
    refused (`ConcurrentUpdate`, with a `wait` for its run again), and what it did
    before stands; a host that catches the refusal may go on and commit."""
    from numinv import ConcurrentUpdate

    inventory = Inventory(open_store("numinv-host"))
    inventory.add_range(NODE, FIRST, count=1)
    repository, other = inventory.repository, open_store("numinv-other")
    with other.transaction() as checking:
        checking.holding(_number(5000))
        with repository.transaction() as tx:
            inventory.reserve(FIRST, NODE, tag="before")
            with pytest.raises(ConcurrentUpdate) as refused:
                [tx.holding(_number(offset)) for offset in range(300)]
            assert refused.value.wait is not None
            assert [record.tag for record in tx.holding(FIRST)] == ["before"]
    assert inventory.get(FIRST, NODE).tag == "before"


def _beside_a_writer_that_checks_then_reads(
    sql: Any, other: Any, check: Callable[[Any], object], call: Callable[[], Any]
) -> Any:
    """Run `call` (on a repository named numinv-call) while another writer holds the locks
    of `check` and then reads FIRST's record. `call` must wait for those locks holding no
    row: the writer then gets the row, and both end, neither run again. Its answer."""
    ready, go = threading.Event(), threading.Event()

    def check_then_read() -> Any:
        with other.transaction() as tx:
            check(tx)
            ready.set()
            go.wait(30)
            return tx.get(FIRST, NODE)

    writer = _Call(check_then_read)
    writer.start()
    assert ready.wait(30)
    running = _Call(call)
    running.start()
    waiting = _waiting_for_a_lock(sql, "numinv-call")
    assert not _holds_rows(sql, waiting)
    go.set()
    writer.join(30)
    running.join(30)
    assert writer.error is None
    assert running.error is None
    return running.answer


def test_an_audit_checks_the_numbers_it_adds_before_it_holds_a_row(
    open_store: Callable[..., Any], sql: Any
) -> None:
    """An audit that fixes a record and adds a missing number read the record to fix
    (locking its row), then waited for the check's locks of the number to add. Another
    writer holding those locks (here every check's: a transaction past the lock budget)
    and then reading that record waited for the audit: a deadlock. The audit now checks
    what it adds first, waiting holding no row; the writer goes on, then the audit."""
    from numinv import Observation

    auditing = Inventory(open_store("numinv-call"), settings=GUARDED)
    auditing.add_range(NODE, FIRST, count=1)
    auditing.assign(FIRST, Consumer(PHONE, "SEP1", NODE))  # not seen any more: to unassign
    seen = [Observation(_number(1), Consumer(PHONE, "SEP2", NODE), hierarchy=NODE)]

    def past_the_budget(tx: Any) -> None:  # every other check is kept out
        for offset in range(300):
            tx.holding(_number(5000 + offset))

    _beside_a_writer_that_checks_then_reads(
        sql,
        open_store("numinv-other"),
        past_the_budget,
        lambda: auditing.audit(seen, at=NODE, add_missing=True),
    )
    assert auditing.retried == 0
    assert auditing.get(FIRST, NODE).status == "Available"
    assert auditing.get(_number(1), NODE).status == "Used"


def test_a_claim_for_a_person_checks_their_numbers_before_it_holds_a_row(
    open_store: Callable[..., Any], sql: Any
) -> None:
    """`assign_next` for Alice goes through the numbers reserved for her: the first one's
    reservation has lapsed, which it stores (locking the row) before it checked the
    second. Another writer holding the second's check locks and then reading the first
    waited for it: a deadlock. Every number is now checked first, holding no row."""
    from datetime import UTC, datetime, timedelta

    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    inventory = Inventory(open_store("numinv-call"), settings=GUARDED, clock=lambda: now[0])
    inventory.add_range(NODE, FIRST, count=2)
    inventory.reserve(FIRST, NODE, days=1, reserved_for="alice")
    inventory.reserve(_number(1), NODE, reserved_for="alice")
    now[0] += timedelta(days=2)  # the first reservation has lapsed
    alice = Consumer(PHONE, "SEPa", NODE, owner="alice")

    taken = _beside_a_writer_that_checks_then_reads(
        sql,
        open_store("numinv-other"),
        lambda tx: tx.holding(_number(1)),
        lambda: inventory.assign_next(alice),
    )
    assert taken.number == _number(1)
    assert inventory.retried == 0
