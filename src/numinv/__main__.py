"""`python -m numinv ...`: the same command as the `numinv` console script."""

from numinv.cli import main

main()
