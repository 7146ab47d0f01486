"""numinv's benchmarks: every figure a ratio of two timings taken in the same run.

Run `python -m benchmarks` (or `python3 tasks.py bench`); see docs/performance.md.
"""
