"""Fuzzing of every parser that reads evidence or lists (issue 14): `make fuzz`.

Each target in `targets.TARGETS` takes seed files (benign, made by `seeds.py` from the committed
fixtures and from code) and states the contract its parser keeps on any input; Hypothesis
mutates the seeds (flipped, cut, inserted, deleted, repeated and zeroed bytes) and checks the
contract on each. `run.py` runs each target for a bounded time; tests/test_fuzz_smoke.py runs a
few examples of each inside the normal test suite.
"""
