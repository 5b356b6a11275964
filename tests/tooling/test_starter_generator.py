"""The starter generator (tooling/starter/, issue #17) on small made-up repositories:
markers per comment syntax, the manifest, the inverse, the leak check, the errors."""

import subprocess
from pathlib import Path

import pytest

from tooling.starter import manifest as manifest_module
from tooling.starter.check import build, check_inverse, check_leaks, todo_messages, todos_unnamed
from tooling.starter.generate import check_unique_ids, generate, reference_files
from tooling.starter.inverse import compare, reinsert
from tooling.starter.leaks import find_leaks
from tooling.starter.markers import HASH, MarkerError, comment_syntax, parse
from tooling.starter.render import render

pytestmark = pytest.mark.database_independent

CLASSIFY = """\
def classify(image):
    pixels = prepare(image)
    # BEGIN SOLUTION 1 a1-inference
    logits = session.run(pixels)
    return top_labels(logits, count=5)
    # END SOLUTION a1-inference
    # BEGIN STUB a1-inference
    # raise NotImplementedError("TODO (assignment 1): run the model. Read docs/classifier.md.")
    # END STUB a1-inference
"""

GIVEN_LATER = """\
INSTALLED_APPS = ["classifier"]
# BEGIN ASSIGNMENT 2
INSTALLED_APPS += ["history"]
# END ASSIGNMENT 2
# BEGIN INSTRUCTOR
GRADER = True
# END INSTRUCTOR
"""

PAGE = """\
<nav>
  {# BEGIN ASSIGNMENT 2 #}
  <a href="/history/">History</a>
  {# END ASSIGNMENT 2 #}
</nav>
{# BEGIN SOLUTION 1 a1-page #}
<p>{{ result.top_class.label }}</p>
{# END SOLUTION a1-page #}
{# BEGIN STUB a1-page #}
{# <p>TODO (assignment 1): show the result.</p> #}
{# END STUB a1-page #}
"""


def rendered(text: str, assignment: int, path: str = "x.py") -> str:
    syntax = comment_syntax(path)
    return render(parse(path, text, syntax), assignment, syntax).text


def test_it_shows_the_stub_between_todo_markers_in_the_solutions_assignment():
    assert rendered(CLASSIFY, 1) == (
        "def classify(image):\n"
        "    pixels = prepare(image)\n"
        "    # BEGIN TODO a1-inference\n"
        '    raise NotImplementedError("TODO (assignment 1): run the model. '
        'Read docs/classifier.md.")\n'
        "    # END TODO a1-inference\n"
    )


def test_it_keeps_an_earlier_assignments_solution_without_markers_or_stub():
    assert rendered(CLASSIFY, 2) == (
        "def classify(image):\n"
        "    pixels = prepare(image)\n"
        "    logits = session.run(pixels)\n"
        "    return top_labels(logits, count=5)\n"
    )


def test_it_removes_a_later_assignments_solution_and_its_stub():
    text = CLASSIFY.replace("SOLUTION 1", "SOLUTION 3")
    assert rendered(text, 2) == "def classify(image):\n    pixels = prepare(image)\n"


def test_it_keeps_given_code_from_its_assignment_on_and_never_instructor_code():
    assert rendered(GIVEN_LATER, 1) == 'INSTALLED_APPS = ["classifier"]\n'
    assert rendered(GIVEN_LATER, 2) == (
        'INSTALLED_APPS = ["classifier"]\nINSTALLED_APPS += ["history"]\n'
    )
    assert "GRADER" not in rendered(GIVEN_LATER, 3)


def test_it_reads_django_templates_comments():
    assert rendered(PAGE, 1, "page.html") == (
        "<nav>\n</nav>\n{# BEGIN TODO a1-page #}\n"
        "<p>TODO (assignment 1): show the result.</p>\n{# END TODO a1-page #}\n"
    )
    assert "History" in rendered(PAGE, 2, "page.html")


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("a.js", "// BEGIN ASSIGNMENT 2"),
        ("a.css", "/* BEGIN ASSIGNMENT 2 */"),
        ("a.md", "<!-- BEGIN ASSIGNMENT 2 -->"),
        ("Dockerfile", "# BEGIN ASSIGNMENT 2"),
        ("main.tf", "# BEGIN ASSIGNMENT 2"),
        ("play.yml", "# BEGIN ASSIGNMENT 2"),
    ],
)
def test_it_knows_each_file_types_comments(path, marker):
    end = marker.replace("BEGIN", "END")
    text = f"kept\n{marker}\nlater\n{end}\n"
    assert rendered(text, 1, path) == "kept\n"


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("a\n# BEGIN ASSIGNMENT 2\nb\n", 2, "never closed"),
        ("# BEGIN SOLUTION 1 x\nb\n# END SOLUTION x\nc\n", 4, "needs its STUB"),
        ("# BEGIN SOLUTION 1 x\nb\n# END SOLUTION x\n", 1, "has no STUB"),
        ("a\n# BEGIN STUB x\n# b\n# END STUB x\n", 2, "without a SOLUTION"),
        ("# BEGIN ASSIGNMENT 4\n# END ASSIGNMENT 4\n", 1, "no assignment '4'"),
        ("# BEGIN SOLUTION 1 x\na\n# END SOLUTION y\n", 3, "does not close"),
        ("# BEGIN SOLUTION 1 x\na\n# END SOLUTION x\n# BEGIN STUB x\nraise\n", 5, "comment"),
        ("a\n# END ASSIGNMENT 2\n", 2, "no region open"),
        ("a\n// BEGIN ASSIGNMENT 2\n", 2, "not a marker in this file's syntax"),
        ("# BEGIN ASSIGNMENT 3\n# BEGIN ASSIGNMENT 2\n# END ASSIGNMENT 2\n# END ASSIGNMENT 3\n",
         2, "could never appear"),
    ],
)  # fmt: skip
def test_it_names_the_file_and_line_of_a_malformed_marker(text, line, says):
    with pytest.raises(MarkerError) as error:
        parse("app/x.py", text, HASH)
    assert str(error.value).startswith(f"app/x.py:{line}: ")
    assert says in str(error.value)


# --- Whole repositories --------------------------------------------------------------


def make_reference(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (root / "scripts").mkdir(exist_ok=True)
    run = root / "scripts" / "run"
    run.write_text("#!/usr/bin/env bash\n# BEGIN ASSIGNMENT 2\nstart s3\n# END ASSIGNMENT 2\n")
    run.chmod(0o755)
    subprocess.run(["git", "init", "--quiet"], cwd=root, check=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run([*git, "add", "--all"], cwd=root, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "reference"], cwd=root, check=True)
    return root


MANIFEST = """\
[instructor]
paths = ["grader/"]
[assignment.2]
arrives = ["history/"]
written = ["Dockerfile"]
[assignment.1]
ready = false
[leak_check]
allowed = []
"""


@pytest.fixture
def manifest(tmp_path) -> manifest_module.Manifest:
    path = tmp_path / "manifest.toml"
    path.write_text(MANIFEST)
    return manifest_module.load(path)


@pytest.fixture
def reference(tmp_path) -> Path:
    return make_reference(
        tmp_path / "reference",
        {
            "classifier/engine.py": CLASSIFY,
            "birdai/settings.py": GIVEN_LATER,
            "birdai/templates/base.html": PAGE,
            "history/views.py": "def history(): ...\n",
            "grader/run.py": "SECRET_ANSWERS = 1\n",
            "Dockerfile": "FROM debian\nRUN build the app\n",
            "README.md": (
                "# app\n<!-- BEGIN ASSIGNMENT 2 -->\nHistory.\n<!-- END ASSIGNMENT 2 -->\n"
            ),
        },
    )


def test_it_writes_a_repository_with_one_commit_and_the_files_of_the_assignment(
    reference, manifest, tmp_path
):
    out = tmp_path / "starter"
    starter = build(reference, 1, out, manifest)
    commits = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=out, capture_output=True, text=True
    )
    assert commits.stdout.strip() == "1"
    tracked = subprocess.run(["git", "ls-files"], cwd=out, capture_output=True, text=True)
    assert (
        sorted(tracked.stdout.split())
        == sorted(starter.files)
        == [
            "README.md",
            "birdai/settings.py",
            "birdai/templates/base.html",
            "classifier/engine.py",
            "scripts/run",
        ]
    )
    assert (out / "scripts" / "run").stat().st_mode & 0o111  # still executable
    assert (out / "scripts" / "run").read_text() == "#!/usr/bin/env bash\n"
    assert (out / "README.md").read_text() == "# app\n"


def test_it_refuses_to_write_into_a_directory_that_holds_files(reference, manifest, tmp_path):
    out = tmp_path / "starter"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        build(reference, 1, out, manifest)


@pytest.mark.parametrize("assignment", [1, 2, 3])
def test_starter_plus_the_removed_parts_is_the_reference(reference, manifest, tmp_path, assignment):
    out = tmp_path / f"starter{assignment}"
    starter = build(reference, assignment, out, manifest)
    check_inverse(reference, starter, out)


def test_the_inverse_notices_a_starter_line_that_changed(reference, manifest, tmp_path):
    out = tmp_path / "starter"
    starter = build(reference, 1, out, manifest)
    files = {path: (out / path).read_bytes() for path in starter.files}
    files["classifier/engine.py"] = files["classifier/engine.py"].replace(b"prepare", b"prep")
    ref = {file.path: file for file in reference_files(reference)}
    assert compare(reinsert(files, starter.record(), ref), ref) == [
        "classifier/engine.py: starter + removed parts differ from the reference"
    ]


def test_a_written_file_is_its_stub_in_its_assignment_and_absent_before(
    reference, manifest, tmp_path, monkeypatch
):
    stubs = tmp_path / "stubs"
    (stubs).mkdir()
    (stubs / "Dockerfile").write_text("# TODO (assignment 2): build the image.\n")
    monkeypatch.setattr(manifest_module, "STUBS", stubs)
    assert "Dockerfile" not in generate(reference, 1, manifest).files
    assert generate(reference, 2, manifest).files["Dockerfile"].data.startswith(b"# TODO")
    assert b"RUN build" in generate(reference, 3, manifest).files["Dockerfile"].data


def test_the_leak_check_finds_a_solution_line_quoted_elsewhere(reference, manifest):
    docs = reference / "docs.md"
    docs.write_text("The answer is `return top_labels(logits, count=5)`.\n")
    starter = generate(reference, 1, manifest)
    leaks = find_leaks(starter, lambda path: None, allowed=[])
    assert [(leak.solution, leak.found_in) for leak in leaks] == [
        ("classifier/engine.py:5", "docs.md")
    ]
    assert find_leaks(starter, lambda path: None, ["return top_labels(logits, count=5)"]) == []


def test_the_leak_check_passes_a_starter_without_leaks(reference, manifest):
    check_leaks(reference, generate(reference, 1, manifest), manifest)


def test_the_leak_check_finds_a_written_files_lines(reference, manifest):
    (reference / "notes.txt").write_text("RUN build the app\n")
    starter = generate(reference, 1, manifest)
    texts = {file.path: file.text for file in reference_files(reference)}
    leaks = find_leaks(starter, texts.get, allowed=[])
    assert [(leak.solution, leak.found_in) for leak in leaks] == [("Dockerfile:2", "notes.txt")]


def test_an_id_is_used_once_in_the_whole_reference(reference, manifest):
    (reference / "classifier" / "other.py").write_text(CLASSIFY)
    with pytest.raises(MarkerError, match=r"classifier/other.py:3: the id a1-inference is already"):
        check_unique_ids(reference, manifest)


def test_a_marker_in_a_file_type_without_known_comments_is_an_error(reference, manifest):
    (reference / "data.json").write_text('{\n"a": 1,\n"// BEGIN ASSIGNMENT 2": 2\n}\n')
    with pytest.raises(MarkerError, match=r"^data.json:3: a marker in a file type"):
        generate(reference, 1, manifest)


def test_the_real_manifest_loads_and_names_existing_paths():
    manifest = manifest_module.load()
    root = Path(__file__).resolve().parents[2]
    files = [file.path for file in reference_files(root)]
    patterns = manifest.instructor + [
        pattern
        for entry in manifest.assignments.values()
        for pattern in entry.arrives + entry.written
    ]
    unmatched = [p for p in patterns if not any(manifest_module.matches(f, p) for f in files)]
    assert unmatched == []


ONE_LINE = """\
from classifier.api import router as classifier_router
from history.api import router as history_router  # ASSIGNMENT 2
from shared.errors import json_answer
"""


def test_a_line_ending_in_an_assignment_comment_arrives_with_it():
    assert rendered(ONE_LINE, 1) == (
        "from classifier.api import router as classifier_router\n"
        "from shared.errors import json_answer\n"
    )
    assert rendered(ONE_LINE, 2) == ONE_LINE.replace("  # ASSIGNMENT 2", "")
    assert rendered("x = 1\ngrader = True  # INSTRUCTOR\n", 3) == "x = 1\n"
    nav = '<a href="/">Home</a>\n<a href="/history/">History</a> {# ASSIGNMENT 2 #}\n'
    assert rendered(nav, 1, "base.html") == '<a href="/">Home</a>\n'


def test_a_line_ending_in_a_solution_comment_goes_with_that_solution():
    text = "import onnx  # SOLUTION a1-inference\n" + CLASSIFY
    assert "import onnx" not in rendered(text, 1)
    assert rendered(text, 2).startswith("import onnx\n")
    with pytest.raises(MarkerError, match=r"x.py:1: no SOLUTION a1-other in this file"):
        parse("x.py", "import onnx  # SOLUTION a1-other\n", HASH)


def test_the_inverse_gives_back_one_line_markers_and_the_blank_lines_they_took(
    reference, manifest, tmp_path
):
    (reference / "birdai" / "urls.py").write_text(
        "import os\n\nfrom history import h  # ASSIGNMENT 2\n\nfrom shared import s  "
        "# SOLUTION a1-x\nX = 1\n# BEGIN SOLUTION 1 a1-x\nY = s\n# END SOLUTION a1-x\n"
        "# BEGIN STUB a1-x\n# Y = None\n# END STUB a1-x\n"
    )
    for assignment in (1, 2):
        out = tmp_path / f"starter{assignment}"
        check_inverse(reference, build(reference, assignment, out, manifest), out)
    assert (tmp_path / "starter1" / "birdai" / "urls.py").read_text() == (
        "import os\n\nX = 1\n# BEGIN TODO a1-x\nY = None\n# END TODO a1-x\n"
    )


def test_a_one_line_paragraph_removed_leaves_one_blank_line_not_two():
    text = "import os\n\nfrom history import h  # ASSIGNMENT 2\n\nX = 1\n"
    assert rendered(text, 1) == "import os\n\nX = 1\n"


def test_a_solution_line_the_given_code_of_that_language_also_has_is_no_leak(reference, manifest):
    # As given code has it, the line gives nothing away, wherever else it appears.
    (reference / "classifier" / "labels.py").write_text("    return top_labels(logits, count=5)\n")
    (reference / "notes.md").write_text("Write `return top_labels(logits, count=5)`.\n")
    assert find_leaks(generate(reference, 1, manifest), lambda path: None, allowed=[]) == []


def test_every_todo_region_must_be_named_by_a_failure(tmp_path):
    (tmp_path / "exif.py").write_text(
        "# BEGIN TODO a2-altitude\n"
        'raise NotImplementedError(\n    "TODO (assignment 2): metres above sea level "\n'
        '    "from GPSAltitude. Read README.md."\n)\n# END TODO a2-altitude\n'
    )
    (tmp_path / "page.html").write_text(
        "{# BEGIN TODO a2-page #}\n<p>TODO (assignment 2): show the map.</p>\n"
        "{# END TODO a2-page #}\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    messages = todo_messages(tmp_path)
    assert messages == {
        "a2-altitude": "TODO (assignment 2): metres above sea level",
        "a2-page": "TODO (assignment 2): show the map.",
    }
    altitude = "NotImplementedError: TODO (assignment 2): metres above sea level from GPSAltitude."
    outcome = {"t.py::test_altitude": ("failed", altitude), "t.py::test_page": ("passed", "")}
    assert todos_unnamed(messages, outcome) == [
        "TODO a2-page: no failure names it (TODO (assignment 2): show the map.)"
    ]
    outcome["t.py::test_page"] = ("failed", "AssertionError: TODO (assignment 2): show the map.")
    assert todos_unnamed(messages, outcome) == []


def test_ci_runs_only_expected_failures_the_full_list_knows():
    def related(a: str, b: str) -> bool:  # the same tests, or one names some of the other's
        return a == b or any(x.startswith(y + s) for x, y in ((a, b), (b, a)) for s in "[:")

    for entry in manifest_module.load().assignments.values():
        unknown = [
            wanted
            for wanted in entry.quick_expected_failing
            if not any(related(wanted, known) for known in entry.expected_failing)
        ]
        assert unknown == [], entry.number
