"""The zip uploaded to Gradescope (`make autograder-zip`): its layout, that the grader
runs from an unpacked copy with only the zip's files, that setup.sh installs every
package that code imports, and that run_autograder always leaves a valid results.json."""

import importlib.metadata
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.gradescope.build_zip import REPOSITORY, build, code_files
from autograder.results import GRADER_FAILED
from autograder.runner import SLIP_CHECK_NAME

pytestmark = pytest.mark.database_independent

GRADESCOPE = REPOSITORY / "autograder" / "gradescope"


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("zip") / "autograder.zip")


@pytest.fixture(scope="module")
def unpacked(built_zip, tmp_path_factory) -> Path:
    """The zip unpacked as Gradescope does: in /autograder/source (here, a temporary
    root), with run_autograder's executable bit."""
    root = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(root / "source")
        for entry in archive.infolist():
            (root / "source" / entry.filename).chmod(entry.external_attr >> 16 & 0o777)
    return root


def without_the_repository() -> dict[str, str]:
    """An environment in which only the unpacked copy's own files can be imported."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def test_make_autograder_zip_builds_it_into_var():
    dry_run = subprocess.run(
        ["make", "-n", "autograder-zip"], cwd=REPOSITORY, capture_output=True, text=True
    )
    assert "-m autograder.gradescope.build_zip --out var/autograder.zip" in dry_run.stdout


def test_the_zip_has_gradescopes_layout(built_zip):
    with zipfile.ZipFile(built_zip) as archive:
        entries = {entry.filename: entry for entry in archive.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert entries[script].external_attr >> 16 & stat.S_IXUSR, f"{script} not executable"
    for name in (
        "requirements-autograder.txt",
        "autograder/__main__.py",
        "autograder/worker.py",
        "autograder/results.schema.json",
        "tooling/loadtest/workload.py",
        "tests/testdata/birds/pink_flamingo.png",
        "tests/testdata/birds/COPYING",
        "tests/testdata/exif/gps/DSCN0010.jpg",
    ):
        assert name in entries, f"{name} is not in the zip"
    assert not [name for name in entries if "__pycache__" in name or name.endswith(".pyc")]
    others = [n for n in entries if n.startswith("tests/") and not n.startswith("tests/testdata")]
    assert others == [], "the test suite is not part of the grader"


def test_the_grader_runs_from_an_unpacked_copy(unpacked):
    source = unpacked / "source"
    help_text = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"],
        cwd=source, env=without_the_repository(), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "--submission" in help_text
    assert "--url" in help_text
    modules = sorted(
        ".".join(path.relative_to(source).with_suffix("").parts).removesuffix(".__init__")
        for path in source.rglob("*.py")
    )
    # Every module imports with only the zip's files (Locust's first, as it must be).
    modules.sort(key=lambda name: name != "tooling.loadtest.workload")
    import_all = f"import importlib\nfor name in {modules!r}: importlib.import_module(name)"
    subprocess.run(
        [sys.executable, "-c", import_all],
        cwd=source, env=without_the_repository(), check=True, capture_output=True,
    )  # fmt: skip


def pinned_requirements() -> dict[str, str]:
    pins = {}
    for line in (REPOSITORY / "requirements-autograder.txt").read_text().splitlines():
        requirement = line.partition("#")[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            pins[normalized(re.sub(r"\[.*\]", "", name))] = version
    return pins


def normalized(distribution: str) -> str:
    """A distribution's name as pip compares them (PEP 503): pillow_heif is pillow-heif."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_setup_installs_every_package_the_zipped_code_imports_at_the_tested_version():
    pins = pinned_requirements()
    distributions = importlib.metadata.packages_distributions()
    _, imported = code_files()
    for module in sorted(imported):
        names = {normalized(name) for name in distributions.get(module, [])}
        assert names & pins.keys(), f"{module} ({names}) is not in requirements-autograder.txt"
    for name, version in pins.items():
        assert importlib.metadata.version(name) == version, f"{name}: the tests run another"
    setup = (GRADESCOPE / "setup.sh").read_text()
    assert '-r "$SOURCE/requirements-autograder.txt"' in setup


def test_the_gradescope_scripts_are_valid_bash():
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(GRADESCOPE / script)], check=True)


def run_autograder(root: Path, **env: str) -> dict:
    subprocess.run(
        [str(root / "source" / "run_autograder")],
        env={**without_the_repository(), "AUTOGRADER_ROOT": str(root), **env},
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_the_submission_folder(unpacked, tmp_path):
    (unpacked / "submission").mkdir(exist_ok=True)
    (unpacked / "submission" / "deployment.json").write_text('{"url": "https://x.example.com"')
    results = run_autograder(unpacked, AUTOGRADER_PYTHON=sys.executable)
    (tmp_path / "results.json").write_text(json.dumps(results))  # checked by the schema
    slip = results["tests"][0]
    assert slip["name"] == SLIP_CHECK_NAME
    assert "is not valid JSON" in slip["output"]


def test_run_autograder_writes_results_even_when_python_cannot_start(tmp_path):
    root = tmp_path / "autograder"
    alerting = build(tmp_path / "alerting.zip", "https://staff.example/hook")
    with zipfile.ZipFile(alerting) as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    broken_python = tmp_path / "python"
    broken_python.write_text(
        f'#!/bin/sh\necho "$AUTOGRADER_ALERT_URL" > {tmp_path}/alert\nexit 1\n'
    )
    broken_python.chmod(0o755)
    results = run_autograder(root, AUTOGRADER_PYTHON=str(broken_python))
    (tmp_path / "results.json").write_text(json.dumps(results))  # checked by the schema
    assert results["tests"][0]["output"].startswith(GRADER_FAILED)
    assert results["extra_data"]["grader_errors"] == 1
    assert (tmp_path / "alert").read_text() == "https://staff.example/hook\n"
