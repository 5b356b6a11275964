"""Every way to deploy bird.ai on AWS turns on what the course's autograder needs:
API_SIGNUP_ENABLED, the JSON sign-up and token endpoints it signs its users up with
(accounts/signup_api.py). Terraform's app servers (their settings, and the Ansible
inventory it writes), Ansible's app role, and the step-by-step guide each set it, from a
documented variable whose default is on. Each check also runs on a copy broken on
purpose and must report it."""

import copy
import re
from collections.abc import Callable

import pytest
import yaml

from tests.deploy.infra_tools import ANSIBLE_DIR, REPOSITORY
from tests.deploy.terraform_config import Config, load, problems_of_broken_copy

pytestmark = pytest.mark.database_independent

APP_ROLE = ANSIBLE_DIR / "roles" / "app"
GUIDE = REPOSITORY / "docs" / "deploy-aws.md"


# --- Terraform -----------------------------------------------------------------------------


def terraform_problems(config: Config) -> list[str]:
    problems = []
    variable = config.variables.get("api_signup_enabled")
    if variable is None:
        return ["no variable api_signup_enabled"]
    if variable.get("type") != "bool" or variable.get("default") is not True:
        problems.append("api_signup_enabled is not a bool that defaults to true")
    if "autograder" not in variable.get("description", ""):
        problems.append("api_signup_enabled's description does not say the autograder needs it")
    setting = str(config.locals["app_settings"].get("API_SIGNUP_ENABLED", ""))
    if setting != '${var.api_signup_enabled ? "true" : "false"}':
        problems.append(f"the app servers' API_SIGNUP_ENABLED is {setting!r}, not the variable")
    inventory = config.locals["ansible_inventory"]["all"]["vars"]
    if inventory.get("app_api_signup_enabled") != "${var.api_signup_enabled}":
        problems.append("the Ansible inventory does not pass api_signup_enabled to the app role")
    return problems


def break_no_setting(config):
    del config.locals["app_settings"]["API_SIGNUP_ENABLED"]


def break_off_by_default(config):
    config.variables["api_signup_enabled"]["default"] = False


def break_inventory(config):
    del config.locals["ansible_inventory"]["all"]["vars"]["app_api_signup_enabled"]


# --- Ansible and the guide, as text ----------------------------------------------------------


def ansible_and_guide() -> dict[str, str]:
    return {
        "defaults": (APP_ROLE / "defaults" / "main.yml").read_text(),
        "template": (APP_ROLE / "templates" / "birdai.env.j2").read_text(),
        "guide": GUIDE.read_text(),
    }


def guide_env_file(guide: str) -> dict[str, str]:
    """docs/deploy-aws.md's first ```dotenv block: the whole of /etc/birdai/birdai.env."""
    block = re.search(r"^```dotenv\n(.*?)^```$", guide, re.MULTILINE | re.DOTALL).group(1)
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def text_problems(texts: dict[str, str]) -> list[str]:
    problems = []
    defaults = yaml.safe_load(texts["defaults"])
    if defaults.get("app_api_signup_enabled") is not True:
        problems.append("the app role's app_api_signup_enabled does not default to true")
    line = "API_SIGNUP_ENABLED={{ app_api_signup_enabled | bool | lower }}"
    if line not in texts["template"].splitlines():
        problems.append("birdai.env.j2 does not write API_SIGNUP_ENABLED from the variable")
    if guide_env_file(texts["guide"]).get("API_SIGNUP_ENABLED") != "true":
        problems.append("docs/deploy-aws.md's birdai.env does not set API_SIGNUP_ENABLED=true")
    if "what the course's assignment asks for" not in texts["guide"]:
        problems.append("docs/deploy-aws.md does not say why the assignment asks for it")
    return problems


def break_role_default(texts):
    texts["defaults"] = texts["defaults"].replace(
        "app_api_signup_enabled: true", "app_api_signup_enabled: false"
    )


def break_template(texts):
    texts["template"] = re.sub(r"(?m)^API_SIGNUP_ENABLED=.*\n", "", texts["template"])


def break_guide(texts):
    texts["guide"] = texts["guide"].replace("API_SIGNUP_ENABLED=true\n", "", 1)


# --- The tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config() -> Config:
    return load()


def test_terraform_turns_it_on_by_a_documented_variable(config):
    assert terraform_problems(config) == []


def test_ansible_and_the_guide_turn_it_on():
    assert text_problems(ansible_and_guide()) == []


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (break_no_setting, "API_SIGNUP_ENABLED is ''"),
        (break_off_by_default, "defaults to true"),
        (break_inventory, "does not pass api_signup_enabled"),
    ],
)
def test_a_terraform_deployment_without_it_fails(config, breakage, message):
    problems = problems_of_broken_copy(config, terraform_problems, breakage)
    assert any(message in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (break_role_default, "does not default to true"),
        (break_template, "birdai.env.j2 does not write"),
        (break_guide, "does not set API_SIGNUP_ENABLED=true"),
    ],
)
def test_an_ansible_or_manual_deployment_without_it_fails(breakage: Callable, message: str):
    texts = copy.deepcopy(ansible_and_guide())
    breakage(texts)
    problems = text_problems(texts)
    assert any(message in problem for problem in problems), problems
