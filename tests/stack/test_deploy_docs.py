"""The AWS deployment guide (docs/deploy-aws.md) and its files in docs/aws/ say only what
the app does: the policies are IAM policy documents, production settings pass Django's
deployment checks, and every variable, command, URL path and file the guide names exists.
What each policy allows is checked in tests/shared/test_s3_storage_and_cdn.py."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import get_commands
from django.urls import Resolver404, resolve

from tooling.servers.net import LOOPBACK

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploy-aws.md"
AWS_DIR = ROOT / "docs" / "aws"
UNIT = AWS_DIR / "birdai.service"
PROXY_UNIT = AWS_DIR / "birdai-proxy.service"
APP_ROLE_SQL = AWS_DIR / "app-role.sql"
ENV_EXAMPLE = ROOT / ".env.example"
# The warnings Django's deployment checks give when HTTPS is off: HSTS, the HTTPS
# redirect, and the session and CSRF cookies without `Secure`.
WITHOUT_HTTPS = {"security.W004", "security.W008", "security.W012", "security.W016"}
# Where this machine's GDAL and GEOS are: not app settings, so the checks inherit them.
MACHINE_VARIABLES = {"GDAL_LIBRARY_PATH", "GEOS_LIBRARY_PATH"}


def documented_variables() -> set[str]:
    """Every variable the app reads: tests/birdai/test_settings_from_environment.py keeps
    .env.example complete."""
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
        "DATABASE_SSLMODE": "verify-full",
        "DATABASE_SSLROOTCERT": "/run/secrets/rds-ca.pem",
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
    warnings = set(re.findall(r"\((security\.W\d+)\)", result.stderr))
    assert warnings == WITHOUT_HTTPS, result.stderr[-600:]


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


def exec_start(unit: Path) -> str:
    text = unit.read_text()
    [command] = re.findall(r"^ExecStart=(.*)$", text.replace("\\\n", " "), re.MULTILINE)
    assert re.search(r"^Restart=always$", text, re.MULTILINE)
    assert re.search(r"^WantedBy=multi-user\.target$", text, re.MULTILINE)
    return command


def test_the_unit_runs_the_image_with_the_env_file_and_the_key_read_only():
    command = exec_start(UNIT)
    assert "--env-file /etc/birdai/birdai.env" in command
    # Settings come from the env file only, never from the command line (`ps` shows it).
    assert not re.search(r"\s(-e|--env)[\s=]", command)
    mounts = dict(re.findall(r"--volume (\S+):(\S+):ro\b", command))
    env_file = guide_env_file()
    assert mounts == {
        "/etc/birdai/cloudfront-private.pem": env_file["AWS_CLOUDFRONT_KEY_FILE"],
        "/etc/birdai/rds-ca.pem": env_file["DATABASE_SSLROOTCERT"],
    }
    assert command.split()[-1] == "birdai"


def published_ports(text: str) -> list[str]:
    return re.findall(r"(?:--publish|-p)[ =]+[\"']?(\S+?)[\"']?(?:\s|$)", text)


def test_no_documented_deployment_lets_clients_reach_gunicorn():
    """Issue #12: two slow clients stop gunicorn's sync workers (the proxy's flood
    tests show it). The app's container publishes nothing; only
    nginx's does, and it forwards to the app by its name on a private network.
    (docker-compose.yml: tests/stack/test_container_files.py.)"""
    app = exec_start(UNIT)
    assert published_ports(app) == []
    assert "--network birdai" in app
    assert "--name birdai " in app
    proxy = exec_start(PROXY_UNIT)
    assert published_ports(proxy) == ["80:80"]
    assert "--network birdai" in proxy
    assert "--env=PROXY_UPSTREAM_SERVERS=server birdai:8000;" in proxy
    assert "--env PROXY_LISTEN=80" in proxy
    # gunicorn listens on 8000 in the image (gunicorn.conf.py).
    assert '"0.0.0.0:8000"' in (ROOT / "gunicorn.conf.py").read_text()
    # Nowhere in the guide's commands is gunicorn's port published.
    guide = GUIDE.read_text()
    assert not [port for port in published_ports(guide) if port.endswith(":8000")]
    assert "--publish 80:8000" not in guide


def test_the_proxy_unit_runs_the_repositorys_proxy_configuration():
    command = exec_start(PROXY_UNIT)
    mounts = dict(re.findall(r"--volume (\S+):(\S+):ro\b", command))
    assert mounts == {
        "/etc/birdai/proxy.conf.template": "/etc/nginx/proxy.conf.template",
        "/etc/birdai/start-proxy.sh": "/etc/nginx/start-proxy.sh",
    }
    assert "--env-file /etc/birdai/proxy.env" in command
    assert command.endswith("nginx:stable-bookworm sh /etc/nginx/start-proxy.sh")
    # The guide copies exactly those files from docker/nginx/ to the instance.
    guide = GUIDE.read_text()
    for name in ("proxy.conf.template", "start-proxy.sh", "proxy.env"):
        assert f"docker/nginx/{name}" in guide
        assert (ROOT / "docker" / "nginx" / name).is_file()
    # Behind the load balancer, nginx must read the client's address from it.
    assert "PROXY_REAL_IP_FROM=172.31.0.0/16" in guide


def test_the_guide_links_every_file_in_docs_aws_and_no_missing_one():
    named = set(re.findall(r"\baws/([\w.-]+\.(?:json|service|sql|md))\b", GUIDE.read_text()))
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


# --- The corrections of issue #12, finding 10 -----------------------------------------


def guide_command(name: str) -> str:
    """The guide's `aws ...` command that starts with `name`, continuation lines joined."""
    text = GUIDE.read_text().replace("\\\n", " ")
    [command] = re.findall(rf"^({re.escape(name)} .*)$", text, re.MULTILINE)
    return " ".join(command.split())


def test_the_database_is_created_encrypted_with_a_pinned_engine_version():
    command = guide_command("aws rds create-db-instance")
    assert "--storage-encrypted" in command
    assert '--engine-version "$PG_VERSION"' in command
    # The major version the tests and the compose stack run (postgis/postgis:15-...).
    lookup = guide_command("PG_VERSION=$(aws rds describe-db-engine-versions")
    assert "--engine postgres --engine-version 15 --default-only" in lookup
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "image: postgis/postgis:15-" in compose


def test_the_app_connects_as_its_own_role_not_the_master_user():
    master = re.search(r"--master-username (\S+)", guide_command("aws rds create-db-instance"))
    app_url = guide_env_file()["DATABASE_URL"]
    app_user = re.match(r"postgis://([^:]+):", app_url).group(1)
    assert app_user == "birdai_app" != master.group(1)
    assert f"CREATE ROLE {app_user} LOGIN" in APP_ROLE_SQL.read_text()
    # The master user's URL is used only by as_master (section 9), from master.env.
    master_env = env_lines(guide_env_blocks()[2])
    assert master_env == [line for line in master_env if line.startswith("DATABASE_URL=")]
    assert master_env[0].startswith(f"DATABASE_URL=postgis://{master.group(1)}:")
    guide = GUIDE.read_text()
    assert "as_master python manage.py migrate" in guide
    assert "in_image python manage.py migrate" not in guide


def test_the_app_verifies_the_databases_certificate_with_the_rds_bundle():
    env_file = guide_env_file()
    assert env_file["DATABASE_SSLMODE"] == "verify-full"
    assert env_file["DATABASE_SSLROOTCERT"] == "/run/secrets/rds-ca.pem"
    guide = GUIDE.read_text()
    bundle = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
    assert f"-o /etc/birdai/rds-ca.pem {bundle}" in guide
    assert "DATABASE_SSLMODE=require\n" not in guide


def test_settings_hand_the_ca_bundle_to_the_database_driver(tmp_path):
    env = production_env(tmp_path)
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "'sslmode': 'verify-full'" in result.stdout
    assert "'sslrootcert': '/run/secrets/rds-ca.pem'" in result.stdout


def test_the_instance_may_only_pull_from_ecr():
    guide = GUIDE.read_text()
    assert "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly" in guide
    assert "policy/AmazonEC2ContainerRegistryReadOnly" not in guide


def test_the_guide_installs_the_aws_cli_where_the_image_has_none():
    guide = GUIDE.read_text()
    assert "Ubuntu and Debian images have no AWS CLI" in guide
    assert "https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip" in guide
    assert "sudo /tmp/aws/install" in guide


def test_the_guide_describes_both_free_tiers():
    costs = GUIDE.read_text().split("## 15. Costs")[1].split("## 16.")[0]
    assert "15 July 2025" in costs
    assert "Accounts made before 15 July 2025" in costs
    assert "12 months" in costs
    assert "Accounts made on or after 15 July 2025" in costs
    assert "credits" in costs


def test_the_cpu_credit_arithmetic_adds_up():
    """t3.micro: 2 vCPUs, 12 credits earned an hour; surplus $0.05 per vCPU-hour."""
    guide = GUIDE.read_text()
    vcpus, earned_per_hour, price_per_vcpu_hour = 2, 12, 0.05
    used_per_hour = vcpus * 60
    surplus = used_per_hour - earned_per_hour
    assert f"**{earned_per_hour} credits an hour**" in guide
    assert f"**{used_per_hour} credits an hour**, {surplus} more" in guide
    assert f"**${surplus / 60 * price_per_vcpu_hour:.2f}** at most" in guide
    day = (vcpus * 24) - earned_per_hour * 24 / 60
    daily = f"{day:.1f} vCPU-hours × $0.05 ≈ **${day * price_per_vcpu_hour:.2f} a day**"  # noqa: RUF001
    assert daily in guide
    assert f"288 / {surplus} ≈ {288 / surplus:.1f} hours" in guide
    assert "CpuCredits=unlimited" in guide
    assert "CpuCredits=standard" in guide


# --- docs/aws/app-role.sql against a real PostgreSQL ----------------------------------


@pytest.fixture
def rds_like_database(postgres_cluster):
    """A database owned by a master user like RDS's: no superuser, may create roles."""
    suffix = secrets.token_hex(4)
    master, database = f"master_{suffix}", f"aws_{suffix}"
    with postgres_cluster.connect("postgres") as connection:
        connection.execute(f"CREATE ROLE {master} LOGIN CREATEROLE")
        connection.execute(f"CREATE DATABASE {database} OWNER {master}")
    base = f"postgis://{{user}}@{LOOPBACK}:{postgres_cluster.port}/{database}"
    yield {"master": base.format(user=master), "app": base.format(user="birdai_app")}
    with postgres_cluster.connect("postgres") as connection:
        connection.execute(f"DROP DATABASE {database} WITH (FORCE)")
        connection.execute("DROP ROLE IF EXISTS birdai_app")
        connection.execute(f"DROP ROLE {master}")


def manage(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_app_role_reads_and_writes_rows_and_nothing_else(rds_like_database, tmp_path):
    """Section 9 as the guide runs it: the role's SQL, then migrate, as the master user;
    then the app's work as birdai_app, which may not change the schema."""
    sql_file = tmp_path / "app-role.sql"
    sql_file.write_text(APP_ROLE_SQL.read_text().replace("APP-PASSWORD", "example"))
    # The guide's shell snippet, with the file's path inside the container replaced.
    guide = GUIDE.read_text()
    snippet = re.search(r'as_master python manage.py shell -c "\n(.*?)"\n', guide, re.DOTALL)
    code = snippet.group(1).replace("/run/secrets/app-role.sql", str(sql_file))
    plain = {"DATABASE_SSLMODE": "disable", "DATABASE_SSLROOTCERT": ""}
    as_master = production_env(tmp_path, DATABASE_URL=rds_like_database["master"], **plain)
    as_app = production_env(tmp_path, DATABASE_URL=rds_like_database["app"], **plain)

    bootstrap = manage(as_master, "shell", "-c", code)
    assert bootstrap.returncode == 0, bootstrap.stderr
    assert "POSTGIS=" in bootstrap.stdout
    migrated = manage(as_master, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr

    # The app's work: rows in tables made after the grants (default privileges), with
    # their sequences, and the map rebuild (LOCK TABLE, DELETE, INSERT).
    work = manage(
        as_app, "shell", "-c",
        "from django.contrib.auth.models import User; "
        "User.objects.create_user('grader-1', password='x' * 12); "
        "print(User.objects.count())",
    )  # fmt: skip
    assert work.returncode == 0, work.stderr
    assert work.stdout.splitlines()[-1] == "1"
    rebuilt = manage(as_app, "rebuild_map_cells")
    assert rebuilt.returncode == 0, rebuilt.stderr

    # And nothing else.
    with psycopg.connect(rds_like_database["app"].replace("postgis", "postgres", 1)) as db:
        for statement in (
            "CREATE TABLE stolen (id int)",
            "DROP TABLE auth_user",
            "ALTER TABLE auth_user ADD COLUMN extra int",
            "CREATE ROLE intruder",
            "TRUNCATE auth_user",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(statement)
            db.rollback()
    denied = manage(as_app, "migrate", "accounts", "zero", "--noinput")
    assert denied.returncode != 0
