"""Instructor tooling, apart from the app: real servers started on loopback for the tests, the
benchmarks and the local multi-server stack."""
