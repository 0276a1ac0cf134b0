"""`python -m bench`: run the benchmarks and write BENCHMARKS.md (see bench/run.py)."""
from bench.run import main

main()
