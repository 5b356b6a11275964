"""deploy/terraform/ with servers_set_up_by = "ansible" fits deploy/ansible/: the
variables refuse what would not work (the ALB, SSH from everywhere), the proxy and app
servers start as bare Debian 12 with only the admin's key (no second copy of the app from
user data), and the ansible_inventory output sets every variable the roles expect from
Terraform, in the shape of inventories/aws-example/hosts.yml. The SSH rules themselves
are checked with the other security groups (test_terraform_security.py). Each check is
also run on a copy broken on purpose and must report it."""

import re
from collections.abc import Callable

import pytest
import yaml

from tests.deploy.infra_tools import ANSIBLE_DIR
from tests.deploy.terraform_config import (
    Config,
    breakage_ids,
    load,
    problems_of_broken_copy,
    references,
    validation_errors,
)

pytestmark = pytest.mark.database_independent

ROLES = ANSIBLE_DIR / "roles"
EXAMPLE = ANSIBLE_DIR / "inventories" / "aws-example"
DEBIAN_12 = "/aws/service/debian/release/12/latest/amd64"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyReplaceWithYourOwn you@laptop"
ANSIBLE_MODE = {"load_balancer": "nginx", "admin_ssh_public_key": KEY}


# --- The variables' validations ---------------------------------------------------------

# (variable, value, the other variables, accepted?)
VALIDATION_CASES = [
    ("servers_set_up_by", "user_data", {}, True),
    ("servers_set_up_by", "user_data", {"load_balancer": "alb"}, True),
    ("servers_set_up_by", "ansible", ANSIBLE_MODE, True),
    ("servers_set_up_by", "ansible", ANSIBLE_MODE | {"load_balancer": "alb"}, False),
    ("servers_set_up_by", "ansible", ANSIBLE_MODE | {"admin_ssh_public_key": ""}, False),
    ("servers_set_up_by", "chef", ANSIBLE_MODE, False),
    ("admin_ssh_cidrs", [], {}, True),
    ("admin_ssh_cidrs", ["203.0.113.7/32"], {}, True),
    ("admin_ssh_cidrs", ["203.0.113.0/24", "10.20.0.0/16"], {}, True),
    ("admin_ssh_cidrs", ["0.0.0.0/0"], {}, False),
    ("admin_ssh_cidrs", ["::/0"], {}, False),
    ("admin_ssh_cidrs", ["203.0.113.7/32", "0.0.0.0/0"], {}, False),
    ("admin_ssh_cidrs", ["0.0.0.0/1", "128.0.0.0/1"], {}, False),  # the world in halves
    ("admin_ssh_cidrs", ["10.0.0.0/8"], {}, False),
    ("admin_ssh_cidrs", ["203.0.113.7"], {}, False),  # no prefix length
    ("admin_ssh_cidrs", ["2001:db8::/64"], {}, False),  # the VPC has no IPv6
    ("admin_ssh_public_key", "", {}, True),
    ("admin_ssh_public_key", KEY, {}, True),
    ("admin_ssh_public_key", "-----BEGIN OPENSSH PRIVATE KEY-----", {}, False),
    ("admin_ssh_public_key", f"{KEY}\nssh-rsa AAAAB3NzaC1yc2E second", {}, False),
]


def validation_problems(config: Config) -> list[str]:
    problems = []
    for name, value, others, accepted in VALIDATION_CASES:
        errors = validation_errors(config, name, value, **others)
        if accepted and errors:
            problems.append(f"{name} = {value!r} ({others}) is refused: {errors}")
        if not accepted and not errors:
            problems.append(f"{name} = {value!r} ({others}) is accepted")
    return problems


# --- What the servers start with in ansible mode ---------------------------------------

TERNARY = re.compile(r"\$\{\(?local\.servers_set_up_by_ansible \? (\S+) : (\S+?)\)?\}")


def in_ansible_mode(expression) -> str | None:
    """What `local.servers_set_up_by_ansible ? A : B` is in that mode (A); None when the
    expression does not depend on the mode."""
    match = TERNARY.fullmatch(str(expression))
    return match.group(1) if match else None


def user_data(body: dict):
    return body.get("user_data", body.get("user_data_base64"))


def ansible_mode_problems(config: Config) -> list[str]:
    problems = []
    servers = {}  # the tier servers: every instance but the release job, and its template
    for name, body in config.all_resources("aws_instance").items():
        if name == "release_job":
            continue  # no server: it prepares the database and stops, in both modes
        template = body.get("launch_template", [{}])[0].get("id", "")
        servers[f"aws_instance.{name}"] = (user_data(body), body.get("ami"))
        if "aws_launch_template.app" in template:
            if user_data(body) is not None or body.get("ami") is not None:
                problems.append(f"aws_instance.{name} overrides its launch template's setup")
    template = config.resource("aws_launch_template", "app")
    servers["aws_launch_template.app"] = (user_data(template), template.get("image_id"))
    for where, (data, image) in servers.items():
        if data is None and image is None:
            continue  # an instance made from the launch template, checked above
        if in_ansible_mode(data) != "local.admin_ssh_user_data":
            problems.append(f"{where}: its user data in ansible mode is not the admin's key only")
        if in_ansible_mode(image) is None and image != "${local.server_image}":
            problems.append(f"{where}: its image does not follow servers_set_up_by")
    debian = in_ansible_mode(config.locals["server_image"]) or ""
    if "data.aws_ssm_parameter.debian_12" not in debian:
        problems.append(f"local.server_image in ansible mode is {debian}, not Debian 12")
    if config.data["aws_ssm_parameter"]["debian_12"]["name"] != DEBIAN_12:
        problems.append(f"data.aws_ssm_parameter.debian_12 is not {DEBIAN_12}")
    cloud_config = config.locals["admin_ssh_user_data"]
    if references(cloud_config)["var"] != {"admin_ssh_public_key"} or "#cloud-config" not in (
        cloud_config
    ):
        problems.append("local.admin_ssh_user_data must be a cloud-config of the admin's key")
    if references(cloud_config)["local"] or "file(" in cloud_config:
        problems.append("local.admin_ssh_user_data must hold nothing but the admin's key")
    return problems


# --- The inventory output ----------------------------------------------------------------


def terraform_supplied(defaults_file) -> set[str]:
    """The role's defaults whose comment says "Terraform:" (the line's own comment, or
    the comment lines right above it)."""
    names = set(yaml.safe_load(defaults_file.read_text()) or {})
    lines = defaults_file.read_text().splitlines()
    found = set()
    for number, line in enumerate(lines):
        name = line.split(":", 1)[0]
        if name not in names:
            continue
        comment = line.split("#", 1)[1] if "#" in line else ""
        above = number - 1
        while above >= 0 and lines[above].startswith("#"):
            comment += lines[above]
            above -= 1
        if "Terraform:" in comment:
            found.add(name)
    return found


def role_defaults() -> dict[str, set[str]]:
    """Every role's default variables, and those Terraform supplies."""
    files = sorted(ROLES.glob("*/defaults/main.yml"))
    assert files, f"no role defaults under {ROLES}"
    declared = set().union(*(set(yaml.safe_load(f.read_text()) or {}) for f in files))
    return {"declared": declared, "from terraform": set().union(*map(terraform_supplied, files))}


def shape(inventory: dict) -> dict:
    """The names an inventory sets, where (not the values)."""
    groups = inventory["all"]["children"]
    return {
        "all vars": set(inventory["all"]["vars"]),
        "groups": set(groups),
        "proxy host vars": set().union(*map(set, groups["proxy"]["hosts"].values())),
        "app vars": set(groups["app"]["vars"]),
    }


def inventory_problems(config: Config) -> list[str]:
    problems = []
    inventory = config.locals["ansible_inventory"]
    settings = inventory["all"]["vars"]
    defaults = role_defaults()
    for name in sorted(defaults["from terraform"] - set(settings)):
        problems.append(f"the inventory sets no {name}, which the roles expect from Terraform")
    for name in sorted(set(settings) - defaults["declared"]):
        if not name.startswith("ansible_"):
            problems.append(f"the inventory sets {name}, which no role's defaults declare")
    example = yaml.safe_load((EXAMPLE / "hosts.yml").read_text())
    if shape(inventory) != shape(example):
        problems.append(f"not the shape of aws-example/hosts.yml: {shape(inventory)}")
    group_vars = yaml.safe_load((EXAMPLE / "group_vars/all/vars.yml").read_text()) or {}
    for name in sorted(set(group_vars) & set(settings)):
        problems.append(f"aws-example's group_vars set {name} too, and would win over Terraform")

    proxy = inventory["all"]["children"]["proxy"]["hosts"]["proxy1"]
    app = inventory["all"]["children"]["app"]
    if proxy.get("ansible_host") != "${local.proxy_public_ip}":
        problems.append("the proxy is not reached at its Elastic IP")
    if "aws_instance.proxy" not in str(proxy.get("private_address")):
        problems.append("the proxy's private_address is not its instance's")
    if "ProxyJump=admin@${local.proxy_public_ip}" not in app["vars"]["ansible_ssh_common_args"]:
        problems.append("the app servers are not reached through the proxy (ProxyJump)")
    if "aws_instance.app" not in app["hosts"] or "private_ip" not in app["hosts"]:
        problems.append("the app hosts are not the app instances' private addresses")
    if not {settings.get("app_port"), settings.get("proxy_app_port")} == {"${local.app_port}"}:
        problems.append("app_port and proxy_app_port must be the port the security groups open")
    if "aws_db_instance.main.address" not in settings.get("app_database_url", ""):
        problems.append("app_database_url does not name the database's endpoint")

    vault_names = set(re.findall(r"\{\{ (vault_\w+) \}\}", str(inventory)))
    example_vault = yaml.safe_load((EXAMPLE / "group_vars/all/vault.yml.example").read_text())
    for name in sorted(vault_names - set(config.outputs["ansible_vault_secrets"]["value"])):
        problems.append(f"{name}: ansible_vault_secrets does not say where it is")
    for name in sorted(vault_names - set(example_vault)):
        problems.append(f"{name}: not in vault.yml.example")
    if config.outputs["ansible_inventory"]["value"] != (
        "${local.servers_set_up_by_ansible ? yamlencode(local.ansible_inventory) : null}"
    ):
        problems.append("the ansible_inventory output is not local.ansible_inventory as YAML")
    return problems


# --- The tests --------------------------------------------------------------------------

CHECKS: dict[str, Callable[[Config], list[str]]] = {
    "validations": validation_problems,
    "ansible mode": ansible_mode_problems,
    "inventory": inventory_problems,
}


@pytest.fixture(scope="module")
def config() -> Config:
    return load()


@pytest.mark.parametrize("check", CHECKS)
def test_the_deployment_passes(config, check):
    assert CHECKS[check](config) == []


def test_the_roles_expect_these_from_terraform():
    # The "Terraform:" marks are found at all (a parser that found none would pass).
    assert role_defaults()["from terraform"] >= {
        "app_image",
        "app_port",
        "proxy_app_port",
        "app_database_url",
        "app_bucket",
        "app_s3_region",
        "app_cdn_domain",
        "app_cloudfront_key_id",
    }


def validation(config, variable, index=0):
    return config.variables[variable]["validation"][index]


def break_cidr_prefix(config):
    validation(config, "admin_ssh_cidrs")["condition"] = (
        "${alltrue([for cidr in var.admin_ssh_cidrs : can(cidrnetmask(cidr))])}"
    )


def break_alb_combination(config):
    del config.variables["servers_set_up_by"]["validation"][1]


def break_mode_names(config):
    validation(config, "servers_set_up_by")["condition"] = "${length(var.servers_set_up_by) > 0}"


def break_app_user_data(config):
    template = config.resource("aws_launch_template", "app")
    template["user_data"] = "${local.app_server_user_data}"


def break_proxy_user_data(config):
    config.resource("aws_instance", "proxy")["user_data_base64"] = "${local.proxy_user_data}"


def break_instance_override(config):
    config.resource("aws_instance", "app")["user_data"] = "${local.app_server_user_data}"


def break_amazon_linux_everywhere(config):
    config.locals["server_image"] = "${data.aws_ssm_parameter.amazon_linux.insecure_value}"


def break_cloud_config(config):
    config.locals["admin_ssh_user_data"] = (
        '${base64encode(join("\\n", ["#cloud-config", yamlencode({ssh_authorized_keys = '
        '[var.admin_ssh_public_key], runcmd = [file("${path.module}/templates/x.sh")]})]))}'
    )


def inventory_vars(config):
    return config.locals["ansible_inventory"]["all"]["vars"]


def break_missing_cdn(config):
    del inventory_vars(config)["app_cdn_domain"]


def break_misspelt_bucket(config):
    inventory_vars(config)["app_buckets"] = inventory_vars(config).pop("app_bucket")


def break_no_proxy_jump(config):
    app = config.locals["ansible_inventory"]["all"]["children"]["app"]
    app["vars"]["ansible_ssh_common_args"] = "-o StrictHostKeyChecking=accept-new"


def break_unknown_vault_name(config):
    inventory_vars(config)["app_secret_key"] = "{{ vault_django_key }}"


def break_port(config):
    inventory_vars(config)["app_port"] = 8000


BREAKAGES = [
    ("validations", break_cidr_prefix, "admin_ssh_cidrs = ['0.0.0.0/0'] ({}) is accepted"),
    ("validations", break_alb_combination, "'load_balancer': 'alb'"),
    ("validations", break_mode_names, "servers_set_up_by = 'chef'"),
    ("ansible mode", break_app_user_data, "aws_launch_template.app: its user data"),
    ("ansible mode", break_proxy_user_data, "aws_instance.proxy: its user data"),
    ("ansible mode", break_instance_override, "aws_instance.app overrides its launch template"),
    ("ansible mode", break_amazon_linux_everywhere, "not Debian 12"),
    ("ansible mode", break_cloud_config, "nothing but the admin's key"),
    ("inventory", break_missing_cdn, "sets no app_cdn_domain"),
    ("inventory", break_misspelt_bucket, "app_buckets, which no role's defaults declare"),
    ("inventory", break_no_proxy_jump, "through the proxy (ProxyJump)"),
    ("inventory", break_unknown_vault_name, "vault_django_key: ansible_vault_secrets"),
    ("inventory", break_port, "the port the security groups open"),
]


@pytest.mark.parametrize(
    ("check", "breakage", "message"),
    BREAKAGES,
    ids=breakage_ids(BREAKAGES),
)
def test_each_check_catches_a_broken_copy(config, check, breakage, message):
    problems = problems_of_broken_copy(config, CHECKS[check], breakage)
    assert any(message in problem for problem in problems), problems
