"""The security properties of deploy/terraform/, checked on the parsed graph: who may
reach whom, that nothing but the load balancer has a public address, that the photo
bucket is not public, IMDSv2, encryption at rest, and the app role's reach. Each check
is also shown catching a copy of the configuration broken on purpose."""

from collections.abc import Callable

import pytest

from tests.deploy.terraform_config import (
    Config,
    block,
    breakage_ids,
    literal,
    load,
    problems_of_broken_copy,
    referenced_name,
    references,
)

pytestmark = pytest.mark.database_independent

THE_INTERNET = {"0.0.0.0/0", "::/0"}


# --- Security groups ------------------------------------------------------------------


def rules(config: Config) -> list[dict]:
    """Every security-group rule, whichever of Terraform's three ways declares it."""
    found = []

    def add(resource, direction, group, body):
        sources = [f"cidr:{cidr}" for key in ("cidr_ipv4", "cidr_ipv6") if (cidr := body.get(key))]
        if sources in (["cidr:${each.value}"], ["cidr:${each.key}"]):
            # One rule per address of a list variable: the source is that variable.
            sources = [f"var:{name}" for name in sorted(references(body["for_each"])["var"])]
        for key in ("cidr_blocks", "ipv6_cidr_blocks"):
            sources += [f"cidr:{cidr}" for cidr in body.get(key) or []]
        for key in ("referenced_security_group_id", "source_security_group_id"):
            if key in body:
                sources.append(f"sg:{referenced_name(body[key], 'aws_security_group')}")
        sources += [
            f"sg:{referenced_name(g, 'aws_security_group')}"
            for g in body.get("security_groups", [])
        ]
        if body.get("prefix_list_id") or body.get("prefix_list_ids"):
            sources.append("prefix-list")
        low, high = literal(config, body.get("from_port")), literal(config, body.get("to_port"))
        protocol = str(body.get("ip_protocol", body.get("protocol")))
        for source in sources or ["nowhere"]:
            found.append(
                {
                    "resource": resource,
                    "direction": direction,
                    "group": group,
                    "source": source,
                    "protocol": protocol,
                    "port": low if low == high else f"{low}-{high}",
                    "made_when": str(body.get("count", body.get("for_each", ""))),
                }
            )

    for direction in ("ingress", "egress"):
        for name, body in config.all_resources(f"aws_vpc_security_group_{direction}_rule").items():
            group = referenced_name(body["security_group_id"], "aws_security_group")
            add(f"aws_vpc_security_group_{direction}_rule.{name}", direction, group, body)
    for name, body in config.all_resources("aws_security_group_rule").items():
        group = referenced_name(body["security_group_id"], "aws_security_group")
        add(f"aws_security_group_rule.{name}", body["type"], group, body)
    for name, body in config.all_resources("aws_security_group").items():
        for direction in ("ingress", "egress"):
            for inline in block(body, direction):
                add(f"aws_security_group.{name}", direction, name, inline)
    return found


# SSH exists only when Ansible sets the servers up (ansible.tf): from the admin's
# addresses to the proxy (load_balancer's group), and from the proxy to the app servers.
SSH_INGRESS = {
    ("load_balancer", "var:admin_ssh_cidrs", 22),
    ("app_servers", "sg:load_balancer", 22),
}
ANSIBLE_MODE = "local.servers_set_up_by_ansible"


def security_group_problems(config: Config) -> list[str]:
    app_port = literal(config, "${local.app_port}")
    allowed_ingress = {
        ("load_balancer", "cidr:0.0.0.0/0", 80),
        ("load_balancer", "cidr:0.0.0.0/0", 443),
        ("app_servers", "sg:load_balancer", app_port),
        ("database", "sg:app_servers", 5432),
    } | SSH_INGRESS
    problems, present = [], set()
    for rule in rules(config):
        key = (rule["group"], rule["source"], rule["port"])
        where = "{resource}: {direction} {group} {source} port {port}".format(**rule)
        if rule["protocol"] != "tcp":
            problems.append(f"{where}: protocol {rule['protocol']}, not tcp")
        if rule["port"] == 22 and ANSIBLE_MODE not in rule["made_when"]:
            problems.append(f"{where}: SSH only when Ansible sets the servers up ({ANSIBLE_MODE})")
        if rule["direction"] == "ingress":
            present.add(key)
            if key not in allowed_ingress:
                problems.append(f"{where}: not an allowed way in")
        elif rule["source"].removeprefix("cidr:") in THE_INTERNET and rule["port"] != 443:
            problems.append(f"{where}: only HTTPS may go out to the internet")
    problems += [
        f"missing ingress {group} from {source} port {port}"
        for group, source, port in sorted(allowed_ingress - present, key=str)
    ]
    for name, body in config.all_resources("aws_default_security_group").items():
        if block(body, "ingress") or block(body, "egress"):
            problems.append(f"aws_default_security_group.{name} has rules: it must stay empty")
    return problems


# --- No public addresses but the load balancer's ---------------------------------------------


def in_load_balancer_group(body: dict) -> bool:
    groups = body.get("vpc_security_group_ids", [])
    return any(referenced_name(g, "aws_security_group") == "load_balancer" for g in groups)


def public_address_problems(config: Config) -> list[str]:
    problems = []
    for name, body in config.all_resources("aws_launch_template").items():
        interfaces = block(body, "network_interfaces")
        if not interfaces or any(
            i.get("associate_public_ip_address") is not False for i in interfaces
        ):
            problems.append(
                f"aws_launch_template.{name}: associate_public_ip_address must be false"
            )
    for name, body in config.all_resources("aws_autoscaling_group").items():
        if referenced_name(body.get("vpc_zone_identifier"), "aws_subnet") != "app":
            problems.append(f"aws_autoscaling_group.{name} must start instances in the app subnets")
    associated = {
        referenced_name(body.get("instance_id"), "aws_instance")
        for body in config.all_resources("aws_eip_association").values()
    }
    for name, body in config.all_resources("aws_instance").items():
        if in_load_balancer_group(body):
            continue  # the nginx proxy tier: what clients reach
        if body.get("associate_public_ip_address") is True or name in associated:
            problems.append(f"aws_instance.{name} gets a public address")
        if referenced_name(body.get("subnet_id"), "aws_subnet") not in ("app", "database"):
            problems.append(f"aws_instance.{name} is not in a private subnet")
    for name in ("app", "database"):
        subnet = config.resource("aws_subnet", name)
        if subnet.get("map_public_ip_on_launch") is True:
            problems.append(f"aws_subnet.{name} gives instances public addresses")
        for route in block(config.resource("aws_route_table", name), "route"):
            if referenced_name(route.get("gateway_id"), "aws_internet_gateway"):
                problems.append(f"aws_route_table.{name} routes to the internet gateway")
    for name, body in config.all_resources("aws_db_instance").items():
        if body.get("publicly_accessible") is not False:
            problems.append(f"aws_db_instance.{name}: publicly_accessible must be false")
    for name, body in config.all_resources("aws_db_subnet_group").items():
        if referenced_name(body.get("subnet_ids"), "aws_subnet") != "database":
            problems.append(f"aws_db_subnet_group.{name} must use the database subnets")
    return problems


# --- The photo bucket -----------------------------------------------------------------


def for_bucket(config: Config, type_: str, bucket: str) -> list[dict]:
    return [
        body
        for body in config.all_resources(type_).values()
        if referenced_name(body.get("bucket"), "aws_s3_bucket") == bucket
    ]


def policy_document(config: Config, expression: str) -> dict:
    (name,) = [n for t, n in [tuple(expression.split(".")[1:3])] if t == "aws_iam_policy_document"]
    return config.data["aws_iam_policy_document"][name]


def public_bucket_problems(config: Config) -> list[str]:
    problems = []
    for bucket, body in config.all_resources("aws_s3_bucket").items():
        if body.get("acl") not in (None, "private"):
            problems.append(f"aws_s3_bucket.{bucket} has the ACL {body['acl']}")
        blocks = for_bucket(config, "aws_s3_bucket_public_access_block", bucket)
        settings = (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
        if not blocks or any(b.get(s) is not True for b in blocks for s in settings):
            problems.append(
                f"aws_s3_bucket.{bucket}: all four public access block settings must be true"
            )
        ownership = for_bucket(config, "aws_s3_bucket_ownership_controls", bucket)
        if [rule["object_ownership"] for o in ownership for rule in block(o, "rule")] != [
            "BucketOwnerEnforced"
        ]:
            problems.append(f"aws_s3_bucket.{bucket}: ACLs must be off (BucketOwnerEnforced)")
        for type_ in ("aws_s3_bucket_acl", "aws_s3_bucket_website_configuration"):
            if for_bucket(config, type_, bucket):
                problems.append(f"aws_s3_bucket.{bucket} has an {type_}")
        for policy in for_bucket(config, "aws_s3_bucket_policy", bucket):
            document = policy_document(config, policy["policy"].strip("${}"))
            for statement in block(document, "statement"):
                if statement.get("effect", "Allow") != "Allow":
                    continue
                principals = block(statement, "principals")
                everyone = [p for p in principals if p["type"] == "*" or "*" in p["identifiers"]]
                conditions = block(statement, "condition")
                from_distribution = any(
                    c["variable"] == "AWS:SourceArn"
                    and referenced_name(c["values"], "aws_cloudfront_distribution")
                    for c in conditions
                )
                if everyone or not principals:
                    problems.append(
                        f"bucket {bucket}: statement {statement.get('sid')} allows everyone"
                    )
                elif not from_distribution:
                    problems.append(
                        f"bucket {bucket}: statement {statement.get('sid')} lacks the "
                        "distribution condition"
                    )
    return problems


# --- IMDSv2 and encryption --------------------------------------------------------------


def instance_metadata_problems(config: Config) -> list[str]:
    problems = []
    for type_ in ("aws_launch_template", "aws_instance"):
        for name, body in config.all_resources(type_).items():
            options = block(body, "metadata_options")
            if not options or options[0].get("http_tokens") != "required":
                problems.append(f"{type_}.{name}: IMDSv2 must be required (http_tokens)")
    for name, body in config.all_resources("aws_launch_template").items():
        options = block(body, "metadata_options")
        if options and options[0].get("http_put_response_hop_limit") != 2:
            problems.append(f"aws_launch_template.{name}: the hop limit must be 2 for containers")
    return problems


def encryption_problems(config: Config) -> list[str]:
    problems = []
    for name, body in config.all_resources("aws_db_instance").items():
        if body.get("storage_encrypted") is not True:
            problems.append(f"aws_db_instance.{name}: storage_encrypted must be true")
    for name, body in config.all_resources("aws_launch_template").items():
        for mapping in block(body, "block_device_mappings"):
            if any(ebs.get("encrypted") is not True for ebs in block(mapping, "ebs")):
                problems.append(f"aws_launch_template.{name}: its volumes must be encrypted")
    for name, body in config.all_resources("aws_instance").items():
        roots = block(body, "root_block_device")
        if not roots or roots[0].get("encrypted") is not True:
            problems.append(f"aws_instance.{name}: its root volume must be encrypted")
    for name, body in config.all_resources("aws_ebs_volume").items():
        if body.get("encrypted") is not True:
            problems.append(f"aws_ebs_volume.{name} must be encrypted")
    for bucket in config.all_resources("aws_s3_bucket"):
        if not for_bucket(config, "aws_s3_bucket_server_side_encryption_configuration", bucket):
            problems.append(f"aws_s3_bucket.{bucket} has no default encryption")
    return problems


# --- The app servers' role ------------------------------------------------------------


def app_role_problems(config: Config) -> list[str]:
    """The app may use photos under its prefix, pull its image and read its secrets."""
    problems = []
    allowed_actions = {
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "secretsmanager:GetSecretValue",
    }
    documents = config.data["aws_iam_policy_document"]
    app = documents["app_server"]
    statements = block(app, "statement")
    for source in app.get("source_policy_documents", []):
        statements += block(documents[source.split(".")[2]], "statement")
    for statement in statements:
        sid = statement.get("sid")
        if statement.get("effect", "Allow") != "Allow":
            continue
        for action in statement["actions"]:
            if action not in allowed_actions:
                problems.append(f"app role statement {sid}: {action} is not what the app needs")
            if action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject") and any(
                not r.endswith("/${local.photos_prefix}*") for r in statement["resources"]
            ):
                problems.append(f"app role statement {sid}: {action} beyond the photos' prefix")
        if "*" in statement["resources"] and statement["actions"] != ["ecr:GetAuthorizationToken"]:
            problems.append(f"app role statement {sid}: a wildcard resource")
    return problems


# --- The tests --------------------------------------------------------------------------

CHECKS: dict[str, Callable[[Config], list[str]]] = {
    "security groups": security_group_problems,
    "public addresses": public_address_problems,
    "public bucket": public_bucket_problems,
    "instance metadata": instance_metadata_problems,
    "encryption": encryption_problems,
    "app role": app_role_problems,
}


@pytest.fixture(scope="module")
def config() -> Config:
    return load()


@pytest.mark.parametrize("check", CHECKS)
def test_the_deployment_passes(config, check):
    assert CHECKS[check](config) == []


def rule(config, name):
    return config.resource("aws_vpc_security_group_ingress_rule", name)


def break_world_ssh(config):
    config.resources["aws_vpc_security_group_ingress_rule"]["ssh"] = {
        "security_group_id": "${aws_security_group.app_servers.id}",
        "cidr_ipv4": "0.0.0.0/0",
        "ip_protocol": "tcp",
        "from_port": 22,
        "to_port": 22,
    }


def break_world_ssh_to_proxy(config):
    ssh = config.resource("aws_vpc_security_group_ingress_rule", "proxy_ssh_from_admins")
    ssh["cidr_ipv4"] = "0.0.0.0/0"


def break_admin_ssh_to_app_servers(config):
    ssh = config.resource("aws_vpc_security_group_ingress_rule", "app_servers_ssh_from_proxy")
    del ssh["referenced_security_group_id"]
    ssh["cidr_ipv4"] = "${each.value}"
    ssh["for_each"] = "${toset(var.admin_ssh_cidrs)}"


def break_ssh_in_every_mode(config):
    del config.resource("aws_vpc_security_group_ingress_rule", "app_servers_ssh_from_proxy")[
        "count"
    ]


def break_ipv6_inline_rule(config):
    config.resource("aws_security_group", "database")["ingress"] = [
        {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "ipv6_cidr_blocks": ["::/0"]}
    ]


def break_all_egress(config):
    config.resources["aws_vpc_security_group_egress_rule"]["everything"] = {
        "security_group_id": "${aws_security_group.database.id}",
        "cidr_ipv4": "0.0.0.0/0",
        "ip_protocol": "-1",
    }


def break_public_launch_template(config):
    config.resource("aws_launch_template", "app")["network_interfaces"][0][
        "associate_public_ip_address"
    ] = True


def break_public_database(config):
    config.resource("aws_db_instance", "main")["publicly_accessible"] = True


def break_release_job_subnet(config):
    config.resource("aws_instance", "release_job")["subnet_id"] = "${aws_subnet.public[0].id}"


def break_elastic_ip_on_app_server(config):
    config.resource("aws_eip_association", "proxy")["instance_id"] = "${aws_instance.app[0].id}"


def break_public_access_block(config):
    config.resource("aws_s3_bucket_public_access_block", "photos")["restrict_public_buckets"] = (
        False
    )


def break_bucket_policy_principal(config):
    statement = config.data["aws_iam_policy_document"]["photos_bucket"]["statement"][0]
    statement["principals"] = [{"type": "*", "identifiers": ["*"]}]


def break_bucket_policy_condition(config):
    config.data["aws_iam_policy_document"]["photos_bucket"]["statement"][0]["condition"] = []


def break_public_acl(config):
    config.resources["aws_s3_bucket_acl"] = {
        "photos": {"bucket": "${aws_s3_bucket.photos.id}", "acl": "public-read"}
    }


def break_imdsv1(config):
    config.resource("aws_launch_template", "app")["metadata_options"][0]["http_tokens"] = "optional"


def break_hop_limit(config):
    config.resource("aws_launch_template", "app")["metadata_options"][0][
        "http_put_response_hop_limit"
    ] = 1


def break_proxy_metadata(config):
    del config.resource("aws_instance", "proxy")["metadata_options"]


def break_database_encryption(config):
    config.resource("aws_db_instance", "main")["storage_encrypted"] = False


def break_volume_encryption(config):
    config.resource("aws_launch_template", "app")["block_device_mappings"][0]["ebs"][0][
        "encrypted"
    ] = False


def break_bucket_encryption(config):
    del config.resources["aws_s3_bucket_server_side_encryption_configuration"]["photos"]


def break_whole_bucket_access(config):
    statement = config.data["aws_iam_policy_document"]["app_server"]["statement"][0]
    statement["resources"] = ["${aws_s3_bucket.photos.arn}/*"]


def break_admin_action(config):
    statement = config.data["aws_iam_policy_document"]["pull_app_image"]["statement"][1]
    statement["actions"] = ["ecr:*"]


BREAKAGES = [
    ("security groups", break_world_ssh, "not an allowed way in"),
    (
        "security groups",
        break_world_ssh_to_proxy,
        "load_balancer cidr:0.0.0.0/0 port 22: not an allowed way in",
    ),
    (
        "security groups",
        break_admin_ssh_to_app_servers,
        "app_servers var:admin_ssh_cidrs port 22: not an allowed way in",
    ),
    ("security groups", break_ssh_in_every_mode, "SSH only when Ansible sets the servers up"),
    (
        "security groups",
        break_ipv6_inline_rule,
        "database cidr:::/0 port 5432: not an allowed way in",
    ),
    ("security groups", break_all_egress, "protocol -1, not tcp"),
    (
        "security groups",
        lambda c: c.resources["aws_vpc_security_group_ingress_rule"].pop(
            "database_from_app_servers"
        ),
        "missing ingress database from sg:app_servers",
    ),
    ("public addresses", break_public_launch_template, "associate_public_ip_address must be false"),
    ("public addresses", break_public_database, "publicly_accessible must be false"),
    (
        "public addresses",
        break_release_job_subnet,
        "aws_instance.release_job is not in a private subnet",
    ),
    ("public addresses", break_elastic_ip_on_app_server, "aws_instance.app gets a public address"),
    ("public bucket", break_public_access_block, "all four public access block settings"),
    ("public bucket", break_bucket_policy_principal, "allows everyone"),
    ("public bucket", break_bucket_policy_condition, "lacks the distribution condition"),
    ("public bucket", break_public_acl, "has an aws_s3_bucket_acl"),
    ("instance metadata", break_imdsv1, "IMDSv2 must be required"),
    ("instance metadata", break_hop_limit, "hop limit must be 2"),
    ("instance metadata", break_proxy_metadata, "aws_instance.proxy: IMDSv2 must be required"),
    ("encryption", break_database_encryption, "storage_encrypted must be true"),
    ("encryption", break_volume_encryption, "its volumes must be encrypted"),
    ("encryption", break_bucket_encryption, "has no default encryption"),
    ("app role", break_whole_bucket_access, "beyond the photos' prefix"),
    ("app role", break_admin_action, "ecr:* is not what the app needs"),
]


@pytest.mark.parametrize(
    ("check", "breakage", "message"),
    BREAKAGES,
    ids=breakage_ids(BREAKAGES),
)
def test_each_check_catches_a_broken_copy(config, check, breakage, message):
    problems = problems_of_broken_copy(config, CHECKS[check], breakage)
    assert any(message in problem for problem in problems), problems
