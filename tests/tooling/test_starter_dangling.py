"""The dangling-name check (tooling/starter/dangling.py, issue #17): no file of a starter
names a path that starter does not have."""

import pytest

from tooling.starter.dangling import DanglingNames, find_dangling
from tooling.starter.generate import ReferenceFile, StarterFiles
from tooling.starter.manifest import Assignment, Manifest
from tooling.starter.markers import MarkerError

pytestmark = pytest.mark.database_independent

MANIFEST = Manifest(
    instructor=["grader/", "docs/grading.md"],
    assignments={
        1: Assignment(1),
        2: Assignment(2, arrives=["history/", "tests/history/"], written=["Dockerfile"]),
        3: Assignment(3, arrives=["deploy/"]),
    },
    leak_allowed=[],
)
REFERENCE = [
    "README.md",
    "classifier/engine.py",
    "docs/classifier.md",
    "docs/grading.md",
    "grader/photos.py",
    "history/views.py",
    "tests/history/test_views.py",
    "Dockerfile",
    "deploy/terraform/main.tf",
]


def starter_1(readme: str) -> StarterFiles:
    starter = StarterFiles(1)
    for path, text in {
        "README.md": readme,
        "classifier/engine.py": "def classify(): ...\n",
        "docs/classifier.md": "How it classifies.\n",
    }.items():
        starter.files[path] = ReferenceFile(path, text.encode(), 0o644)
    return starter


def names(readme: str, allowed: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    found = find_dangling(starter_1(readme), REFERENCE, MANIFEST, list(allowed))
    return [(name.found_in, name.name, name.why) for name in found]


@pytest.mark.parametrize(
    ("text", "name", "why"),
    [
        ("Read docs/grading.md.", "docs/grading.md", "instructor-only"),
        ("`grader/photos.py` reads it", "grader/photos.py", "instructor-only"),
        ("from grader.photos import walk", "grader.photos", "instructor-only"),
        ("the grader (grader/)", "grader/", "instructor-only"),
        ("its history/ app", "history/", "arrives with assignment 2"),
        ("history/urls.py, not written yet", "history/urls.py", "arrives with assignment 2"),
        ("tests/history: its tests", "tests/history", "arrives with assignment 2"),
        ("the Dockerfile builds it", "Dockerfile", "arrives with assignment 2"),
        ("deploy/terraform/*.tf", "deploy/terraform/*.tf", "arrives with assignment 3"),
    ],
)
def test_it_finds_a_planted_name_of_a_missing_path(text, name, why):
    assert names(f"# app\n\n{text}\n") == [("README.md:3", name, why)]


@pytest.mark.parametrize(
    "text",
    [
        "Read docs/classifier.md and classifier/engine.py.",  # in the starter
        "Your history of photos, and a grader.",  # words, not paths
        "GET /history/ and https://example.com/grader/photos.py",  # URLs, not files
        "docs/grading.mdx and mydeploy/terraform",  # other names that begin or end alike
    ],
)
def test_it_passes_names_the_starter_has_words_and_urls(text):
    assert names(f"{text}\n") == []


@pytest.mark.parametrize(
    ("path", "text", "found"),
    [
        ("docs/classifier.md", "[guide](../history/views.py)", ["../history/views.py"]),
        ("classifier/engine.py", "# views.py and engine.py", []),  # neither is missing
        ("scripts/run", "# the one-machine stack", []),  # a word, not scripts/stack
    ],
)
def test_it_reads_a_name_relative_to_its_file(path, text, found):
    starter = starter_1("# app\n")
    starter.files[path] = ReferenceFile(path, f"{text}\n".encode(), 0o644)
    reference = [*REFERENCE, "scripts/run", "scripts/stack"]
    assert [n.name for n in find_dangling(starter, reference, MANIFEST, [])] == found


def test_a_package_docstring_names_a_missing_module_of_its_own_folder():
    starter = starter_1("# app\n")
    reference = [*REFERENCE, "classifier/remote.py"]
    text = '"""engine.py  the classifier\nremote.py  a remote one"""\n'
    starter.files["classifier/__init__.py"] = ReferenceFile("x", text.encode(), 0o644)
    found = find_dangling(starter, reference, MANIFEST, [])
    assert [(n.found_in, n.name) for n in found] == [("classifier/__init__.py:2", "remote.py")]


def test_an_allowed_name_passes_in_its_file_only():
    readme = "See docs/grading.md.\n"
    assert names(readme, allowed=("README.md: docs/grading.md",)) == []
    assert names(readme, allowed=("docs/classifier.md: docs/grading.md",)) != []


def test_it_is_a_marker_error_that_lists_every_name():
    starter = starter_1("docs/grading.md\nDockerfile\n")
    found = find_dangling(starter, REFERENCE, MANIFEST, [])
    error = DanglingNames(1, found)
    assert isinstance(error, MarkerError)  # starter-check reports it as a marking problem
    assert "README.md:1: names docs/grading.md (instructor-only)" in str(error)
    assert "README.md:2: names Dockerfile (arrives with assignment 2)" in str(error)
