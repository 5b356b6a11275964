"""The load test: a Locust workload kept in the repository (workload.py), run headless
with thresholds, reports and plots (runner.py), a step-load capacity search
(capacity.py) and a soak with its checks (soak.py). scripts/loadtest runs it;
`python -m tooling.loadtest --help` lists the modes.

Only loopback targets (guard.py), at most MAX_USERS users for at most MAX_SECONDS.

Importing runner or workload imports Locust, which patches the standard library for
gevent: do it first in a process of its own. The other modules (guard, photos,
accounts, endpoints, timeline, thresholds, soak's checks) import no Locust.
"""
