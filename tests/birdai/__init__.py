"""Tests of birdai/, the project's wiring: settings, health checks, headers, static
files, the API schema, and the layers the packages keep."""
