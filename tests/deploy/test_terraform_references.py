"""Every name deploy/terraform/ refers to exists, and every variable is used
(`terraform validate` would say so; it cannot run here). Each check is also shown
catching a broken copy of the configuration."""

import pytest

from tests.deploy.terraform_config import Config, everything, load, references

pytestmark = pytest.mark.database_independent


def unresolved_references(config: Config) -> list[str]:
    found = references(everything(config))
    problems = [
        f"{type_}.{name} is referred to but not declared"
        for type_, name in sorted(found["resource"])
        if name not in config.all_resources(type_)
    ]
    problems += [
        f"data.{type_}.{name} is referred to but not declared"
        for type_, name in sorted(found["data"])
        if name not in config.data.get(type_, {})
    ]
    for kind, declared in (
        ("var", config.variables),
        ("local", config.locals),
        ("module", config.modules),
    ):
        problems += [
            f"{kind}.{name} is referred to but not declared"
            for name in sorted(found[kind] - set(declared))
        ]
    return problems


def unused_declarations(config: Config) -> list[str]:
    found = references(everything(config))
    problems = [
        f"variable {name} is never used" for name in config.variables if name not in found["var"]
    ]
    problems += [
        f"local {name} is never used" for name in config.locals if name not in found["local"]
    ]
    return problems


@pytest.fixture(scope="module")
def config() -> Config:
    return load()


def test_it_parses_every_file_into_one_graph(config):
    # A smoke check of the loader itself: the tiers are all there.
    for type_ in (
        "aws_vpc",
        "aws_lb",
        "aws_autoscaling_group",
        "aws_launch_template",
        "aws_db_instance",
        "aws_s3_bucket",
        "aws_cloudfront_distribution",
        "aws_ecr_repository",
        "aws_iam_role",
    ):
        assert config.all_resources(type_), f"no {type_} in deploy/terraform"
    assert len(config.variables) >= 10


def test_every_reference_resolves(config):
    assert unresolved_references(config) == []


def test_every_variable_and_local_is_used(config):
    assert unused_declarations(config) == []


def test_the_providers_are_pinned_to_exact_versions(config):
    (terraform,) = [entry["terraform"] for entry in config.other if "terraform" in entry]
    (providers,) = terraform[0]["required_providers"]
    for name, requirement in providers.items():
        assert requirement["version"][0].isdigit(), f"{name}: {requirement['version']} is a range"


# --- Each check can fail ------------------------------------------------------------------


def test_it_catches_a_reference_to_a_missing_resource(config):
    broken = config.copy()
    broken.resources["aws_db_instance"]["main"]["vpc_security_group_ids"] = [
        "${aws_security_group.databse.id}"
    ]
    assert unresolved_references(broken) == [
        "aws_security_group.databse is referred to but not declared"
    ]


def test_it_catches_a_reference_to_a_missing_data_source(config):
    broken = config.copy()
    del broken.data["aws_ssm_parameter"]["amazon_linux"]
    assert "data.aws_ssm_parameter.amazon_linux is referred to but not declared" in (
        unresolved_references(broken)
    )


def test_it_catches_an_undeclared_variable_local_and_module(config):
    broken = config.copy()
    del broken.variables["db_instance_class"]
    del broken.locals["photos_prefix"]
    broken.outputs["extra"] = {"value": "${module.network.vpc_id}"}
    assert unresolved_references(broken) == [
        "var.db_instance_class is referred to but not declared",
        "local.photos_prefix is referred to but not declared",
        "module.network is referred to but not declared",
    ]


def test_it_catches_an_unused_variable_and_local(config):
    broken = config.copy()
    broken.variables["forgotten"] = {"type": "string", "default": "x"}
    broken.locals["leftover"] = 1
    assert unused_declarations(broken) == [
        "variable forgotten is never used",
        "local leftover is never used",
    ]
