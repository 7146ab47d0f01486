"""numinv's benchmarks: numinv against hand-written floors, and against itself at 100x the size.

Every figure is a ratio of two measurements taken in the same run, samples
interleaved, in CPU time. Run `python -m benchmarks` (or `python3 tasks.py
bench`); `benchmarks/floors/` holds the floors; see docs/performance.md.
"""
