"""starter-check: for one assignment, prove the starter is what the reference says.

1. generate it (markers parse, ids unique) and write it as a repository;
2. the inverse: starter + the reference's removed regions and files = the reference;
3. the leak check (leaks.py) and the dangling-name check (dangling.py);
4. ruff on the generated files;
5. for a starter marked ready in the manifest, in a clone of the generated repository,
   as a student on a clean machine: `scripts/run` installs what the app needs (a .venv
   of its own) and starts it (as scripts/first-run-check does), the reference's
   autograder grades that running app (grading.py: a low score, actionable messages, no
   grader error), `scripts/test` installs what the tests need and its static checks
   pass (BIRDAI_TEST_PARTS=static), and its tests give the expected pattern: the tests
   listed as expected_failing fail, each with "TODO" in its message; every other test
   passes. `tests="quick"` runs instead of the whole suite the manifest's
   quick_expected_failing (a few of them; without it, all) and its
   quick_passing_subset; either way, every TODO region of the starter must be named by
   a failure (todos_unnamed).

Every step prints its duration.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tooling.servers.net import free_port, http_post_file, http_status
from tooling.starter import manifest as manifest_module
from tooling.starter.dangling import check_dangling
from tooling.starter.generate import (
    RegenerateError,
    StarterFiles,
    check_unique_ids,
    commit,
    generate,
    reference_files,
    regenerate,
    write_files,
)
from tooling.starter.grading import GradingWrong, grade_running_app
from tooling.starter.inverse import compare, read_tree, reinsert
from tooling.starter.leaks import find_leaks
from tooling.starter.markers import MarkerError


class CheckFailed(Exception):
    pass


@contextmanager
def timed(what: str, durations: dict[str, float]):
    started = time.perf_counter()
    yield
    durations[what] = time.perf_counter() - started
    print(f"starter-check: {what}: {durations[what]:.1f} s", flush=True)


def reference_commit_date(root: Path) -> str:
    return subprocess.run(
        ["git", "log", "-1", "--format=%cI"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def build(root: Path, assignment: int, out: Path, manifest=None) -> StarterFiles:
    """Generate, write, regenerate the schema files, commit: the `make starter` steps."""
    manifest = manifest or manifest_module.load()
    check_unique_ids(root, manifest)
    starter = generate(root, assignment, manifest)
    write_files(starter, out)
    regenerate(starter, out, python=str(root / ".venv" / "bin" / "python"), manifest=manifest)
    commit(starter, out, commit_date=reference_commit_date(root))
    return starter


def check_inverse(root: Path, starter: StarterFiles, out: Path) -> None:
    reference = {file.path: file for file in reference_files(root)}
    rebuilt = reinsert(read_tree(out, starter.files), starter.record(), reference)
    problems = compare(rebuilt, reference)
    if problems:
        raise CheckFailed("the inverse does not give the reference:\n  " + "\n  ".join(problems))


def check_leaks(root: Path, starter: StarterFiles, manifest) -> None:
    reference = {file.path: file for file in reference_files(root)}
    leaks = find_leaks(starter, lambda path: reference[path].text, manifest.leak_allowed)
    if leaks:
        lines = [f"{leak.found_in} shows {leak.solution}: {leak.line}" for leak in leaks]
        raise CheckFailed("solution text leaks into the starter:\n  " + "\n  ".join(lines))


def check_ruff(root: Path, out: Path) -> None:
    """A removed region must leave code ruff accepts as it is (no unused import, no run of
    blank lines): the starter's scripts/test runs ruff before any test. Quicker than the
    clone's static checks below, so also in `--tests none`."""
    ruff = str(root / ".venv" / "bin" / "ruff")
    for command in ([ruff, "check", "--quiet", "."], [ruff, "format", "--check", "--quiet", "."]):
        found = subprocess.run(command, cwd=out, capture_output=True, text=True, check=False)
        if found.returncode != 0:
            raise CheckFailed(
                f"{' '.join(command[1:])} in the starter:\n{found.stdout}{found.stderr}"
            )


def check(root: Path, assignment: int, *, tests: str = "full", kept: Path | None = None) -> dict:
    """kept: a folder kept from one assignment's check to the next (see main_check):
    the clone is made there, at the same path each time, and the virtualenvs its
    scripts installed are parked there for the next starter."""
    manifest = manifest_module.load()
    durations: dict[str, float] = {}
    workdir = Path(tempfile.mkdtemp(prefix=f"birdai-starter-{assignment}."))
    clone = (kept or workdir) / "clone"
    try:
        out = workdir / "generated"
        with timed(f"assignment {assignment}: generate", durations):
            starter = build(root, assignment, out, manifest)
        with timed(f"assignment {assignment}: inverse", durations):
            check_inverse(root, starter, out)
        with timed(f"assignment {assignment}: leak check", durations):
            check_leaks(root, starter, manifest)
            check_dangling(root, starter, manifest)  # names of paths it lacks (dangling.py)
        with timed(f"assignment {assignment}: ruff", durations):
            check_ruff(root, out)
        entry = manifest.assignments[assignment]
        if entry.ready and tests != "none":
            subprocess.run(["git", "clone", "--quiet", str(out), str(clone)], check=True)
            if kept:
                move_virtualenvs(kept, clone)
            with serving(clone) as app:
                with timed(f"assignment {assignment}: install and first run", durations):
                    first_run(clone, app, inference_written=assignment > 1)
                with timed(f"assignment {assignment}: autograder", durations):
                    grade = grade_running_app(root, assignment, app.url, workdir / "results.json")
                print(f"starter-check: assignment {assignment}: autograder: {grade.summary()}")
            with timed(f"assignment {assignment}: test set-up and static checks", durations):
                static_checks(clone)
            with timed(f"assignment {assignment}: tests ({tests})", durations):
                run_tests(clone, entry, tests)
        return durations
    finally:
        if kept and clone.exists():
            move_virtualenvs(clone, kept)
        shutil.rmtree(clone, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


# What scripts/setup installs, outside git: a student's working copy keeps it from one
# assignment to the next.
VIRTUALENVS = (".venv", ".venv-infra")


def move_virtualenvs(source: Path, target: Path) -> None:
    """A virtualenv names its own path in its scripts, so it moves only between clones
    made at the same path (main_check's)."""
    for name in VIRTUALENVS:
        if (source / name).is_dir() and not (target / name).exists():
            (source / name).rename(target / name)


@dataclass(frozen=True)
class RunningApp:
    url: str
    log_path: Path
    process: subprocess.Popen


@contextmanager
def serving(clone: Path) -> Iterator[RunningApp]:
    """scripts/run, as written, on a free loopback port (as scripts/first-run-check
    does), until the block ends: on a fresh clone it installs the app's packages into
    the clone's own .venv and exports the model first. Sign-up through the API is on,
    as the autograder asks of every deployment, so that the grader's checks reach the
    students' code instead of all stopping at sign-up."""
    port = free_port()
    (clone / "var").mkdir(exist_ok=True)
    log_path = clone / "var" / "first-run.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            ["scripts/run"],
            cwd=clone,
            env={**os.environ, "PORT": str(port), "API_SIGNUP_ENABLED": "true"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
    try:
        yield RunningApp(f"http://127.0.0.1:{port}", log_path, server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def first_run(clone: Path, app: RunningApp, *, inference_written: bool) -> str:
    """/readyz must answer 200, then a bird photo is classified. Starter 1, whose
    students write the inference, must answer it with a 500 and the TODO in the server's
    log; a later starter must name the bird."""
    deadline = time.monotonic() + 600  # as first-run-check: the install comes first
    while http_status(app.url + "/readyz") != 200:
        if app.process.poll() is not None or time.monotonic() > deadline:
            raise CheckFailed(f"scripts/run never got ready:\n{tail(app.log_path)}")
        time.sleep(1)
    photo = clone / FIRST_RUN_PHOTO
    answer = http_post_file(
        app.url + "/api/v1/classify",
        field_name="image",
        filename=photo.name,
        data=photo.read_bytes(),
        timeout=120,
    )
    status, body = answer.status, answer.body.decode(errors="replace")
    if inference_written and (status != 200 or '"flamingo"' not in body):
        raise CheckFailed(f"the first photo answered {status}: {body[:300]}")
    if not inference_written and (status != 500 or "TODO" not in app.log_path.read_text()):
        raise CheckFailed(
            f"the first photo answered {status}, not 500 with the TODO in the log:"
            f"\n{tail(app.log_path)}"
        )
    return f"/readyz 200, the first photo {status}"


FIRST_RUN_PHOTO = "tests/testdata/birds/pink_flamingo.png"  # as scripts/first-run-check


def static_checks(clone: Path) -> None:
    """The starter's scripts/test installs what its tests need (`scripts/setup --test`)
    and runs the static checks (ruff, import layers, Django's checks) before any test: a
    stub with an unused import or a broken layer would stop a student's scripts/test
    there, before the first test."""
    log = clone / "var" / "static-checks.txt"
    with open(log, "w") as output:
        finished = subprocess.run(
            ["scripts/test"], cwd=clone, env={**os.environ, "BIRDAI_TEST_PARTS": "static"},
            stdout=output, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    if finished.returncode != 0:
        raise CheckFailed(f"BIRDAI_TEST_PARTS=static scripts/test failed:\n{tail(log)}")


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_tests(clone: Path, entry: manifest_module.Assignment, tests: str) -> dict:
    report = clone / "var" / "junit.xml"
    failing = entry.quick_expected_failing or entry.expected_failing
    selection = [] if tests == "full" else [*failing, *entry.quick_passing_subset]
    env = dict(os.environ)
    env.pop("BIRDAI_TEST_DB", None)  # SpatiaLite: the reference's CI runs PostGIS
    # Every test, the measures_load ones included (scripts/test runs those alone, as
    # they judge a load): only starter 3 has any, and those that load the stack stop
    # at the proxy's TODOs before a load runs.
    # pytest's own output goes to a file: the expected failures' tracebacks are
    # thousands of lines, worth reading only when the pattern is wrong.
    log = clone / "var" / "pytest.txt"
    with open(log, "w") as output:
        subprocess.run(
            [str(clone / ".venv" / "bin" / "python"), "-m", "pytest", "-q",
             "-p", "no:cacheprovider", f"--junitxml={report}",
             *selection],
            cwd=clone, env=env, check=False, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    pytest_lines = log.read_text(errors="replace").splitlines()
    print(f"starter-check: pytest: {pytest_lines[-1] if pytest_lines else 'no output'}", flush=True)
    outcome = read_junit(report)
    problems = judge(outcome, entry.expected_failing, must_run=selection and failing)
    problems += todos_unnamed(todo_messages(clone), outcome)
    counts = {kind: sum(1 for o in outcome.values() if o[0] == kind) for kind in
              ("passed", "failed", "skipped")}  # fmt: skip
    print(f"starter-check: {json.dumps(counts)}", flush=True)
    if problems:
        print("\n".join(pytest_lines[-200:]), flush=True)  # the end of pytest's output
        raise CheckFailed("the starter's tests do not give the expected pattern:\n  "
                          + "\n  ".join(problems))  # fmt: skip
    return counts


def read_junit(report: Path) -> dict[str, tuple[str, str]]:
    """{node id: (passed | failed | skipped, message)} from pytest's JUnit XML."""
    outcome = {}
    # pytest wrote this report on this machine a moment ago: not untrusted input.
    for case in ElementTree.parse(report).iter("testcase"):  # noqa: S314
        path = case.get("classname", "").replace(".", "/")
        node = f"{path}.py::{case.get('name')}"
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            outcome[node] = ("failed", (failure.get("message") or "") + (failure.text or ""))
        elif skipped is not None:
            outcome[node] = ("skipped", skipped.get("message") or "")
        else:
            outcome[node] = ("passed", "")
    return outcome


def judge(
    outcome: dict[str, tuple[str, str]], expected_failing: list[str], must_run=None
) -> list[str]:
    """must_run: the expected failures that must have run (all of them unless given)."""

    def expected(node: str) -> bool:
        return any(node == e or node.startswith(e.rstrip(":") + "::") or
                   node.startswith(e + "[") for e in expected_failing)  # fmt: skip

    problems = []
    for node, (kind, message) in sorted(outcome.items()):
        if expected(node):
            if kind != "failed":
                problems.append(f"{node}: {kind}, expected to fail with a TODO")
            elif "TODO" not in message:
                problems.append(f"{node}: failed without a TODO: {message.splitlines()[:3]}")
        elif kind == "skipped" and "PostGIS only" in message:
            continue  # the SpatiaLite run skips these; tests/conftest.py allows no other
        elif kind != "passed":
            problems.append(f"{node}: {kind}: {message.splitlines()[:3]}")
    for wanted in must_run or expected_failing:
        if not any(expected(node) and (node == wanted or node.startswith(wanted.split("[")[0]))
                   for node in outcome):  # fmt: skip
            problems.append(f"{wanted}: expected to fail, but it did not run")
    return problems


TODO_REGION = re.compile(r"BEGIN TODO ([\w-]+)(.*?)END TODO \1", re.DOTALL)
# A TODO's first words, up to the end of its line, string literal or HTML tag: what a
# failure the region causes shows (a NotImplementedError's message, or nginx.py's list
# of the proxy template's TODOs).
TODO_MESSAGE = re.compile(r"TODO \(assignment \d\): [^\"\n<]*")


def todo_messages(clone: Path) -> dict[str, str]:
    """{region id: the first words of its TODO} for every TODO region in the starter."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    messages = {}
    for path in filter(None, files):
        try:
            text = (clone / path).read_text()
        except (UnicodeDecodeError, OSError):  # binary, a folder's link, a dangling link
            continue
        for region in TODO_REGION.finditer(text):
            message = TODO_MESSAGE.search(region.group(2))
            messages[region.group(1)] = message.group(0).strip() if message else ""
    return messages


def todos_unnamed(messages: dict[str, str], outcome: dict[str, tuple[str, str]]) -> list[str]:
    """Every TODO region must be proven by the tests that ran: some failure shows its
    message, so a student's failing test points at it (and `--tests quick`'s few
    expected failures cover every region)."""
    failures = [message for kind, message in outcome.values() if kind == "failed"]
    return [
        f"TODO {region}: no failure names it ({message or 'its region has no TODO message'})"
        for region, message in sorted(messages.items())
        if not message or not any(message in failure for failure in failures)
    ]


def main_check(root: Path, assignments: list[int], tests: str) -> int:
    """Every assignment is checked, even after one failed; exit 1 if any did.

    The first starter's clone installs everything from nothing, as on a clean machine:
    scripts/run makes .venv, scripts/setup --test adds the test packages (and, from
    starter 3 on, .venv-infra). The next starter's clone, at the same path, takes over
    those virtualenvs as a student's working copy would, and its scripts/setup installs
    only what its requirement files add (none add any: the starters' requirement files
    are the reference's; scripts/setup compares their hash). That saves a minute and a
    half per starter; `--assignment N` alone installs starter N from nothing."""
    failed = []
    started = time.perf_counter()
    kept = Path(tempfile.mkdtemp(prefix="birdai-starters."))
    try:
        for assignment in assignments:
            try:
                check(root, assignment, tests=tests, kept=kept)
            except (CheckFailed, GradingWrong, MarkerError, RegenerateError) as error:
                print(f"starter-check: assignment {assignment} FAILED: {error}", file=sys.stderr)
                failed.append(assignment)
    finally:
        shutil.rmtree(kept, ignore_errors=True)
    elapsed = time.perf_counter() - started
    if failed:
        print(f"starter-check: FAILED for {failed} ({elapsed:.1f} s)", file=sys.stderr)
        return 1
    print(f"starter-check: passed ({elapsed:.1f} s)", flush=True)
    return 0
