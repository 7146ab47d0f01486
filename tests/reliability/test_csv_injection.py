"""No CSV cell a spreadsheet would run as a formula (#13 item 8, decision 34).

A record whose every text field, its node and the person it is reserved for
start with a formula character is exported; no cell of the CSV starts with
one, except the number and E.164 columns, which hold only `+` and digits,
and the whole record reads back as it was.
"""

from __future__ import annotations

import csv
import io
import re

import attrs
import pytest

from numinv import NumberRecord, Status
from numinv.core.records import EXTRA_FIELDS
from numinv.serialization import read_csv, write_csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DIGITS_ONLY = {"number", "e164", "primary_e164"}


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_text_cell_of_an_export_is_neutralised_and_reads_back(start: str) -> None:
    payload = f'{start}HYPERLINK("http://evil/x","y")'
    record = NumberRecord(
        "+1000",
        f"{start}sys.acme",
        status=Status.RESERVED,
        reserved_for=payload,
        tag=payload,
        description=payload,
        reservation_notes=payload,
        e164=("+442071234567",),
        primary_e164="+442071234567",
        **dict.fromkeys(EXTRA_FIELDS, payload),
    )
    if start in ("\t", "\r"):  # white space: no node path nor name starts with it
        record = attrs.evolve(record, hierarchy="sys.acme", reserved_for=payload[1:])
    stream = io.StringIO()
    write_csv([record], stream)

    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    risky = {
        column: cell
        for column, cell in rows[0].items()
        if cell.startswith(FORMULA_STARTS) and column not in DIGITS_ONLY
    }
    assert risky == {}
    for column in DIGITS_ONLY:
        assert re.fullmatch(r"[+\d;]*", rows[0][column])
    assert list(read_csv(io.StringIO(stream.getvalue()))) == [record]
