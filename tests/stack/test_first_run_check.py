"""scripts/first-run-check's failure message (issue #17): in a starter whose students have
not written the inference yet, the classify request fails, and the message says why
first: the TODOs the server's log names, then the log's tail.

The script runs in a copy of the repository's layout whose `scripts/run` is a stand-in
server (a few lines of Python): /readyz answers 200, POST /api/v1/classify answers 500
and logs the traceback Django would, so this takes a second, not a real first run.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.database_independent

ROOT = Path(__file__).resolve().parents[2]

TODO = (
    "TODO (assignment 1): turn the RGB image into the model's input, a float32 array "
    "(1, 3, 224, 224). Read docs/classifier.md."
)

# The stand-in for scripts/run: what runserver logs when a view raises the stub's error.
FAKE_RUN = """\
#!/usr/bin/env bash
exec /usr/bin/python3 - <<'PYTHON'
import http.server, os, sys

class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/readyz" else 404)
        self.end_headers()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        print("Internal Server Error: /api/v1/classify", file=sys.stderr)
        print("Traceback (most recent call last):", file=sys.stderr)
        print('  File "classifier/images.py", line 375, in to_model_input', file=sys.stderr)
        print("    raise NotImplementedError(", file=sys.stderr)
        print("NotImplementedError: " + os.environ["FAKE_TODO"], file=sys.stderr)
        print("" + os.environ["FAKE_AFTER"], file=sys.stderr, flush=True)
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b'{"detail": "Internal server error"}')

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), App).serve_forever()
PYTHON
"""


def run_first_run_check(tmp_path: Path, todo: str, after: str) -> subprocess.CompletedProcess:
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "first-run-check", tmp_path / "scripts" / "first-run-check")
    run = tmp_path / "scripts" / "run"
    run.write_text(FAKE_RUN)
    run.chmod(0o755)
    photo = tmp_path / "tests" / "testdata" / "birds" / "pink_flamingo.png"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\x89PNG not really")
    return subprocess.run(
        ["scripts/first-run-check"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "FAKE_TODO": todo, "FAKE_AFTER": after},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_failed_classification_names_the_todo_before_the_log(tmp_path):
    # Many lines after the traceback: the log's tail alone would not show the TODO.
    checked = run_first_run_check(tmp_path, TODO, "\n".join(["GET /readyz 200"] * 100))

    assert checked.returncode == 1
    message = checked.stderr
    assert message.startswith(
        f"first-run-check FAILED: the classifier is not written yet: {TODO}\n"
    ), message[:500]
    assert message.count(TODO) == 1, message  # named once, and not in the tail
    assert "POST /api/v1/classify answered 500" in message
    assert message.index(TODO) < message.index("--- last lines of the log")


def test_a_failure_without_a_todo_is_reported_as_before(tmp_path):
    checked = run_first_run_check(tmp_path, "the model file is missing", "")

    assert checked.returncode == 1
    assert checked.stderr.startswith(
        "first-run-check FAILED: POST /api/v1/classify answered 500: "
    ), checked.stderr[:500]
    assert "not written yet" not in checked.stderr
