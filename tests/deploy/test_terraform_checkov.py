"""checkov (pinned in requirements-infra.txt, in .venv-infra: it brings many packages of
its own) finds no failed check in deploy/terraform/, and every check it skips is
justified where it is skipped. A copy with encryption switched off fails, so a checkov
that checked nothing would not pass."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.terraform_config import ROOT, TERRAFORM_DIR, require_written

pytestmark = pytest.mark.database_independent

CHECKOV = ROOT / ".venv-infra" / "bin" / "checkov"
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


@pytest.fixture(autouse=True)
def written_configuration():
    require_written(TERRAFORM_DIR)


def checkov(directory: Path) -> subprocess.CompletedProcess:
    assert CHECKOV.exists(), f"checkov is not installed: scripts/setup --infra ({CHECKOV})"
    return subprocess.run(
        # --skip-download: no policy updates from the vendor's platform, so that the run
        # needs no network and is the same every time.
        [
            CHECKOV,
            "--directory",
            directory,
            "--framework",
            "terraform",
            "--compact",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        # checkov imports its own fork of the hcl2 module (bc-python-hcl2); the tests'
        # python-hcl2 must not shadow it through an inherited PYTHONPATH.
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    )


def test_checkov_finds_no_failed_check():
    result = checkov(TERRAFORM_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Passed checks: [1-9]\d*, Failed checks: 0", result.stdout), result.stdout


def test_every_skipped_check_says_why():
    skips = []
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if match := SKIP.search(line):
                skips.append(
                    (f"{path.name}:{number}", match.group(1), (match.group(2) or "").strip())
                )
    assert skips
    unexplained = [(where, check) for where, check, reason in skips if len(reason.split()) < 5]
    assert unexplained == []


def test_checkov_fails_an_unencrypted_database(tmp_path):
    broken = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, broken)
    database = broken / "database.tf"
    database.write_text(
        database.read_text().replace("storage_encrypted = true", "storage_encrypted = false")
    )
    result = checkov(broken)
    assert result.returncode != 0
    assert (
        "CKV_AWS_16" in result.stdout
    )  # "Ensure all data stored in the RDS is securely encrypted at rest"
