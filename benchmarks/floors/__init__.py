"""The floors: the same work as numinv, by the simplest competent hand-written code.

One module per store. A floor runs in the same process as numinv, on the same
estate (in memory: its own dict holding the same records; on SQLite: the same
file through its own raw connection), and is timed interleaved with numinv.
A store added later (PostgreSQL) brings a module with the same methods:
`get`, `available_numbers`, `assign_next`, `unassign`, `reserve`,
`unreserve`, `release_due`, `audit` and `add_range`.
"""
