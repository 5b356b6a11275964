"""A server that fails to start says why: the last lines of its log, and the first
Python error in it, which those lines may not hold (gunicorn's master prints a
traceback of its own after the one that stopped a worker)."""

import sys

import pytest

from tooling.servers.process import ServerProcess, ServerStartError

pytestmark = pytest.mark.database_independent

CRASH = """
import traceback
try:
    raise ValueError("the real cause")
except ValueError:
    traceback.print_exc()
print("\\n".join(f"what the master says afterwards, line {n}" for n in range(40)))
raise SystemExit(3)
"""


class Crashing(ServerProcess):
    name = "crashing"

    def command(self) -> list[str]:
        return [sys.executable, "-c", CRASH]

    def is_ready(self) -> bool:
        return False


def test_a_failed_start_names_the_first_error_in_the_log():
    server = Crashing()
    try:
        with pytest.raises(ServerStartError) as failed:
            server.start()
    finally:
        server.close()
    message = str(failed.value)
    assert "exited with code 3" in message
    assert message.endswith("First error in the log: ValueError: the real cause")
    assert message.count("the real cause") == 1  # not in the last lines themselves
