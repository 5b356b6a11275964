"""Tests of the whole stack as it runs: gunicorn behind nginx, real browsers, hostile
clients, the API fuzzed against its schema, the container files, the first run, the
deployment guide."""
