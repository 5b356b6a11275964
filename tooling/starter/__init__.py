"""The starter generator (issue #17, docs/starter-code.md): one assignment's starter
repository written from this reference, its inverse, and the leak check.

    python -m tooling.starter generate --assignment 1 --out DIR   # `make starter`
    python -m tooling.starter check --assignment 1                # `make starter-check`

Instructor-only: no starter holds it, and nothing but its tests imports it.
"""
