"""Tests of bench/, the benchmarks' own parts."""
