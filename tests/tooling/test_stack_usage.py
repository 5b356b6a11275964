"""tooling/stack_usage.py counts a part's CPU with its workers' and with the children it
has already reaped (PostgreSQL's ended backends), so a part that forks is not
under-counted; and it turns two readings into cores."""

import os
import subprocess
import sys

import pytest

from tooling.stack_usage import cores_between, group_cpu_seconds

pytestmark = pytest.mark.database_independent  # processes and their CPU time: no database.

BUSY_SECONDS = 0.5
BUSY_LOOP = (
    "import time\n"
    "end = time.process_time() + float(__import__('sys').argv[1])\n"
    "while time.process_time() < end: pass\n"
    "print('done', flush=True)\n"
    "__import__('sys').stdin.read()\n"  # then wait, alive, until told
)


def test_a_childs_cpu_counts_while_it_runs_and_after_it_is_reaped():
    before = group_cpu_seconds(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", BUSY_LOOP, str(BUSY_SECONDS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline() == "done\n"
    while_alive = group_cpu_seconds(os.getpid()) - before
    child.communicate("")  # ends it, and reaps it
    after_reaped = group_cpu_seconds(os.getpid()) - before

    assert while_alive >= BUSY_SECONDS * 0.9
    assert after_reaped >= while_alive


def test_cores_are_cpu_seconds_per_second_and_the_rest_is_everything_else():
    before = {"app1": 10.0, "proxy": 1.0, "machine": 100.0, "wall": 50.0}
    after = {"app1": 15.0, "proxy": 2.0, "machine": 130.0, "wall": 60.0}

    assert cores_between(before, after) == {
        "app1": 0.5,
        "proxy": 0.1,
        "machine": 3.0,
        "everything else": 2.4,
    }
