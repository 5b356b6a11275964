"""The AWS deployment guide (docs/deploy-aws.md) and its files in docs/aws/ say only what
the app does: the policies are IAM policy documents, production settings pass Django's
deployment checks, and every variable, command, URL path and file the guide names exists.
What each policy allows is checked in tests/test_storage_s3.py."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import get_commands
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deploy-aws.md"
AWS_DIR = ROOT / "docs" / "aws"
UNIT = AWS_DIR / "birdai.service"
ENV_EXAMPLE = ROOT / ".env.example"
# The warnings Django's deployment checks give when HTTPS is off: HSTS, the HTTPS
# redirect, and the session and CSRF cookies without `Secure`.
WITHOUT_HTTPS = {"security.W004", "security.W008", "security.W012", "security.W016"}
# Where this machine's GDAL and GEOS are: not app settings, so the checks inherit them.
MACHINE_VARIABLES = {"GDAL_LIBRARY_PATH", "GEOS_LIBRARY_PATH"}


def documented_variables() -> set[str]:
    """Every variable the app reads: tests/test_settings.py keeps .env.example complete."""
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def guide_env_blocks() -> list[str]:
    """The guide's env-file contents: its ```dotenv blocks."""
    return re.findall(r"^```dotenv\n(.*?)^```$", GUIDE.read_text(), re.MULTILINE | re.DOTALL)


def env_lines(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def guide_env_file() -> dict[str, str]:
    """The first block: the whole of /etc/birdai/birdai.env."""
    return dict(line.split("=", 1) for line in env_lines(guide_env_blocks()[0]))


# --- docs/aws/*.json ------------------------------------------------------------------


def test_every_policy_in_docs_aws_is_an_iam_policy_document():
    policies = sorted(AWS_DIR.glob("*.json"))
    assert policies, "no policy files found: the glob is broken"
    for path in policies:
        policy = json.loads(path.read_text())
        assert policy["Version"] == "2012-10-17", path.name
        assert isinstance(policy["Statement"], list), path.name
        assert policy["Statement"], path.name
        for statement in policy["Statement"]:
            assert statement["Effect"] in {"Allow", "Deny"}, path.name
            for key in ("Action", "Resource"):
                value = statement[key]
                values = [value] if isinstance(value, str) else value
                assert values, (path.name, key)
                assert all(isinstance(item, str) and item for item in values), (path.name, key)


# --- manage.py check --deploy with production settings -------------------------------


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of an app server (docs/deploy-aws.md, section 8), with none of the
    app's variables inherited from the environment the tests run in."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "cloudfront-private.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    app_variables = documented_variables() - MACHINE_VARIABLES
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in app_variables and not name.startswith(("AWS_", "BIRDAI_", "DJANGO_"))
    }
    return {
        **inherited,
        "BIRDAI_PRODUCTION": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "bird.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://bird.example.com",
        # .invalid never resolves: the checks pass only if they never connect.
        "DATABASE_URL": "postgis://birdai:pw@db.example.invalid:5432/birdai",
        "DATABASE_SSLMODE": "require",
        "AWS_STORAGE_BUCKET_NAME": "birdai-photos-example",
        "AWS_S3_REGION_NAME": "eu-central-1",
        "AWS_S3_CUSTOM_DOMAIN": "d111111abcdef8.cloudfront.net",
        "AWS_CLOUDFRONT_KEY_ID": "K2JCJMDEHXQW5F",
        "AWS_CLOUDFRONT_KEY_FILE": str(key_file),
        "BIRDAI_VAR_DIR": str(tmp_path / "var"),
        **overrides,
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_fail_production_without_https(tmp_path):
    result = check_deploy(production_env(tmp_path, BIRDAI_HTTPS="false"))
    assert result.returncode != 0
    assert set(re.findall(r"\((security\.W\d+)\)", result.stderr)) == WITHOUT_HTTPS


def test_the_guides_env_file_sets_what_the_checked_production_settings_set(tmp_path):
    checked = set(production_env(tmp_path)) & documented_variables()
    # The image sets BIRDAI_VAR_DIR itself; the guide says to leave it out.
    assert checked - {"BIRDAI_VAR_DIR"} <= set(guide_env_file())


# --- The guide and the unit -----------------------------------------------------------


def test_the_guide_sets_only_variables_the_app_reads():
    blocks = guide_env_blocks()
    assert blocks, "no ```dotenv block in docs/deploy-aws.md"
    names = set()
    for block in blocks:
        for line in env_lines(block):
            # Docker's --env-file takes lines literally: no quotes, spaces or `export`.
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\s\"']*", line), line
            names.add(line.split("=", 1)[0])
    assert names - documented_variables() == set(), "not read by the app (.env.example)"


def test_the_unit_runs_the_image_with_the_env_file_and_the_key_read_only():
    unit = UNIT.read_text()
    [command] = re.findall(r"^ExecStart=(.*)$", unit.replace("\\\n", " "), re.MULTILINE)
    assert "--env-file /etc/birdai/birdai.env" in command
    # Settings come from the env file only, never from the command line (`ps` shows it).
    assert not re.search(r"\s(-e|--env)\s", command)
    [(source, target)] = re.findall(r"--volume (\S+):(\S+):ro\b", command)
    assert source == "/etc/birdai/cloudfront-private.pem"
    assert target == guide_env_file()["AWS_CLOUDFRONT_KEY_FILE"]
    assert "--publish 80:8000" in command
    assert command.split()[-1] == "birdai"
    assert re.search(r"^Restart=always$", unit, re.MULTILINE)
    assert re.search(r"^WantedBy=multi-user\.target$", unit, re.MULTILINE)


def test_the_guide_links_every_file_in_docs_aws_and_no_missing_one():
    named = set(re.findall(r"\baws/([\w.-]+\.(?:json|service))\b", GUIDE.read_text()))
    assert named == {path.name for path in AWS_DIR.iterdir() if path.is_file()}


def test_every_management_command_in_the_guide_exists():
    named = set(re.findall(r"manage\.py (\w+)", GUIDE.read_text()))
    assert named, "no commands found: the pattern is broken"
    assert named - set(get_commands()) == set()


def test_every_url_path_the_guide_calls_exists():
    paths = set(re.findall(r"(?:\$SITE|http://127\.0\.0\.1)(/[\w/.-]*)", GUIDE.read_text()))
    assert {"/healthz", "/readyz", "/api/v1/submissions"} <= paths
    missing = []
    for path in sorted(paths):
        try:
            resolve(path)
        except Resolver404:
            missing.append(path)
    assert missing == []
