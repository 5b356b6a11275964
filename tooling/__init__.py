"""Tooling apart from the app, for the tests and the repository's scripts: real servers
started on loopback, test photos."""
