"""The infrastructure tools' virtualenv (.venv-infra, `scripts/setup --infra`)."""

from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
INFRA_BIN = REPOSITORY / ".venv-infra" / "bin"
ANSIBLE_DIR = REPOSITORY / "deploy" / "ansible"


def infra_tool(name: str) -> Path:
    """The path of a tool in .venv-infra; the test fails (not skips) without it."""
    path = INFRA_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/setup --infra (scripts/setup --test does)")
    return path
