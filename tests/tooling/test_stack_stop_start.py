"""`scripts/stack stop NAME` / `start NAME` without a running stack: what they refuse and
say. tests/stack/test_faults_under_load.py stops and starts a real stack's database."""

import os

from tooling.stack.commands import main
from tooling.stack.state import READY, process_record, write_state
from tooling.stack.supervisor import HELD_DIR, held_parts


def test_stop_and_start_without_a_stack_say_so(tmp_path, capsys):
    for command in ("stop", "start"):
        assert main(["--state-dir", str(tmp_path), command, "postgres"]) == 1
        assert "no stack is ready" in capsys.readouterr().err
    assert held_parts(tmp_path) == set()  # nothing was asked of a supervisor


def test_a_part_that_is_not_there_is_refused_with_the_names_of_those_that_are(tmp_path, capsys):
    # A stack whose supervisor is this process (alive, so the stack counts as running).
    part = {"name": "postgres", "held": False, "running": True}
    write_state(tmp_path, {"status": READY, "supervisor": process_record(os.getpid()),
                           "parts": [part]})  # fmt: skip

    assert main(["--state-dir", str(tmp_path), "stop", "postgress"]) == 1

    assert "no part named 'postgress'; the parts: postgres" in capsys.readouterr().err
    assert not (tmp_path / HELD_DIR).exists()  # nothing held
