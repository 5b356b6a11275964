"""deploy/ansible/ passes ansible-lint at its strictest shared profile, production
(deploy/ansible/.ansible-lint)."""

import subprocess

import pytest

from tests.deploy.infra_tools import ANSIBLE_DIR, INFRA_BIN, infra_tool

pytestmark = pytest.mark.database_independent


def test_it_passes_ansible_lint_at_the_production_profile():
    lint = infra_tool("ansible-lint")
    result = subprocess.run(
        [lint, "--profile", "production", "--offline", "--nocolor"],
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        env={"PATH": f"{INFRA_BIN}:/usr/bin:/bin", "HOME": str(ANSIBLE_DIR.parent.parent / "var")},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Profile 'production' was required, and it passed" in result.stdout + result.stderr
