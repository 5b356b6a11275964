"""The packages' dependencies point one way (docs/architecture.md): import-linter checks
the contracts in pyproject.toml. scripts/test runs `lint-imports` on the code itself;
these tests check that the contracts hold and that they can fail, on a copy of the code
with a forbidden import added, as a student adding one would see it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# The root packages of pyproject.toml's [tool.importlinter]; their Python files are all
# import-linter reads.
PACKAGES = [
    "birdai", "history", "geo", "classifier", "accounts", "throttling", "shared",
    "tooling", "bench", "tests",
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


def test_geo_importing_history_breaks_the_build(tmp_path):
    root = python_copy(tmp_path)
    with (root / "geo" / "exif.py").open("a") as exif:
        exif.write("\nfrom history.models import Submission  # noqa\n")
    result = lint_imports(root)
    assert result.returncode != 0
    assert "geo knows nothing of history" in result.stdout
    assert "geo.exif -> history.models" in result.stdout


def test_an_app_importing_the_project_breaks_the_build(tmp_path):
    """Upward imports: the project package wires the apps, never the other way round."""
    root = python_copy(tmp_path)
    with (root / "classifier" / "labels.py").open("a") as labels:
        labels.write("\nfrom birdai import settings  # noqa\n")
    result = lint_imports(root)
    assert result.returncode != 0
    assert "classifier is not allowed to import birdai" in result.stdout
