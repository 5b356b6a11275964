"""Tests of tooling/: the servers the tests and benchmarks start do their jobs."""
