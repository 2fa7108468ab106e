"""Benchmarks for twopass: `python -m bench [--quick]` prints a table and writes
bench/results/latest.json. They report figures; nothing here is a test."""
