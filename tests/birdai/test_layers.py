"""The packages' dependencies point one way (docs/architecture.md): import-linter checks
the contracts in pyproject.toml. scripts/test runs `lint-imports` on the code itself;
these tests check that the contracts hold and that they can fail, on a copy of the code
with a forbidden import added, as a student adding one would see it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# The root packages of pyproject.toml's [tool.importlinter]; their Python files are all
# import-linter reads.
PACKAGES = [
    "birdai", "classifier", "accounts", "throttling", "shared", "tooling", "tests",
    "history", "geo",  # ASSIGNMENT 2
    "bench", "autograder",  # INSTRUCTOR
]  # fmt: skip

pytestmark = pytest.mark.database_independent


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def python_copy(tmp_path: Path) -> Path:
    """The root packages' Python files and pyproject.toml, nothing else."""
    for package in PACKAGES:
        shutil.copytree(
            REPOSITORY / package,
            tmp_path / package,
            ignore=lambda folder, names: [
                name
                for name in names
                if not name.endswith(".py") and not (Path(folder) / name).is_dir()
            ],
        )
    shutil.copy(REPOSITORY / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_code_keeps_every_contract(tmp_path):
    result = lint_imports(python_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# A forbidden import a student might add, and what import-linter then says.
FORBIDDEN_IMPORTS = {
    # BEGIN ASSIGNMENT 2
    "geo importing history": (
        "geo/exif.py",
        "from history.models import Submission",
        ["geo knows nothing of history", "geo.exif -> history.models"],
    ),
    # END ASSIGNMENT 2
    # Upward: the project package wires the apps, never the other way round.
    "an app importing the project": (
        "classifier/labels.py",
        "from birdai import settings",
        ["classifier is not allowed to import birdai"],
    ),
    # BEGIN INSTRUCTOR
    # The autograder grades the app from outside; the app never leans on it.
    "the app importing the autograder": (
        "shared/errors.py",
        "from autograder.checks import DeploymentWrong",
        ["The app never imports the autograder", "shared.errors -> autograder.checks"],
    ),
    # END INSTRUCTOR
}


@pytest.mark.parametrize("case", FORBIDDEN_IMPORTS)
def test_a_forbidden_import_breaks_the_build(tmp_path, case):
    module, line, messages = FORBIDDEN_IMPORTS[case]
    root = python_copy(tmp_path)
    with (root / module).open("a") as source:
        source.write(f"\n{line}  # noqa\n")
    result = lint_imports(root)
    assert result.returncode != 0
    for message in messages:
        assert message in result.stdout
