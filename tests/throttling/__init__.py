"""Tests of throttling/: the limits per account and per address."""
