"""deploy/terraform/ parsed with python-hcl2, as one graph the tests can check without an
AWS account or the Terraform binary (neither can be had here).

`load()` merges every .tf file into a `Config`: resources, data sources, variables,
locals and outputs by name. Blocks are lists of dicts (`block(body, "metadata_options")`),
expressions are the strings Terraform would evaluate ("${var.region}"), literals are
Python values. The checks are plain functions that return a list of problems, so that a
test can run them on a mutated copy and show that each one can fail.
"""

import copy
import functools
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = ROOT / "deploy" / "terraform"

try:
    import hcl2
    from hcl2 import SerializationOptions
except ImportError:  # a failure, not a skip: the tests would otherwise prove nothing
    hcl2 = None

# Which Terraform names an expression refers to. `data.` and resource references share
# the TYPE.NAME shape, so resource references must not follow "data.".
PROVIDER_PREFIXES = ("aws", "random", "tls")
RESOURCE_REFERENCE = re.compile(
    r"(?<![\w.])((?:" + "|".join(PROVIDER_PREFIXES) + r")_[a-z0-9_]+)\.([A-Za-z_][\w-]*)"
)
DATA_REFERENCE = re.compile(r"(?<![\w.])data\.([a-z0-9_]+)\.([A-Za-z_][\w-]*)")
NAMED_REFERENCE = re.compile(r"(?<![\w.])(var|local|module)\.([A-Za-z_][\w-]*)")


@dataclass
class Config:
    resources: dict = field(default_factory=dict)  # {type: {name: body}}
    data: dict = field(default_factory=dict)  # {type: {name: body}}
    variables: dict = field(default_factory=dict)  # {name: body}
    locals: dict = field(default_factory=dict)  # {name: expression}
    outputs: dict = field(default_factory=dict)  # {name: body}
    modules: dict = field(default_factory=dict)  # {name: body}
    other: list = field(default_factory=list)  # terraform {} and provider {} blocks

    def copy(self) -> "Config":
        return copy.deepcopy(self)

    def resource(self, type_: str, name: str) -> dict:
        return self.resources[type_][name]

    def all_resources(self, type_: str) -> dict:
        return self.resources.get(type_, {})


def parse_file(path: Path) -> dict:
    if hcl2 is None:
        pytest.fail("python-hcl2 is not installed: scripts/setup --test (requirements-dev.txt)")
    options = SerializationOptions(
        with_comments=False,
        explicit_blocks=False,
        strip_string_quotes=True,
        preserve_heredocs=False,
    )
    with path.open() as file:
        return hcl2.load(file, serialization_options=options)


def require_written(directory: Path = TERRAFORM_DIR) -> None:
    """A course's starter code hands these files out as TODOs:
    fail saying so, rather than on whatever the first check finds missing."""
    unwritten = [
        path.name
        for path in sorted(directory.glob("*.tf"))
        if "TODO (assignment" in path.read_text()
    ]
    if unwritten:
        pytest.fail(f"TODO (assignment 3): write {', '.join(unwritten)} in {directory}")


def load(directory: Path = TERRAFORM_DIR) -> Config:
    """The configuration in `directory`, parsed once per test session (parsing takes
    seconds); each caller gets its own copy to change."""
    return _parsed(directory).copy()


@functools.cache
def _parsed(directory: Path) -> Config:
    files = sorted(directory.glob("*.tf"))
    assert files, f"no .tf files in {directory}"
    require_written(directory)
    config = Config()
    for path in files:
        parsed = parse_file(path)
        for kind, target in (("resource", config.resources), ("data", config.data)):
            for entry in parsed.get(kind, []):
                for type_, named in entry.items():
                    for name, body in named.items():
                        bodies = target.setdefault(type_, {})
                        assert name not in bodies, f"{kind} {type_}.{name} declared twice"
                        bodies[name] = body
        for kind, target in (
            ("variable", config.variables),
            ("output", config.outputs),
            ("module", config.modules),
            ("locals", config.locals),
        ):
            for entry in parsed.get(kind, []):
                for name, body in entry.items():
                    assert name not in target, f"{kind} {name} declared twice"
                    target[name] = body
        config.other += [{k: v} for k, v in parsed.items() if k in ("terraform", "provider")]
    return config


def problems_of_broken_copy(config: Config, check, breakage) -> list[str]:
    """What `check` reports on a copy of the configuration that `breakage` changed: the
    proof that the check can fail."""
    broken = config.copy()
    breakage(broken)
    return check(broken)


def breakage_ids(breakages: list[tuple]) -> list[str]:
    return [f"{check}: {breakage.__name__}" for check, breakage, _ in breakages]


def block(body: dict, name: str) -> list[dict]:
    """The blocks called `name` in a resource's body ([] when there are none)."""
    value = body.get(name, [])
    return value if isinstance(value, list) else [value]


def strings(value) -> list[str]:
    """Every string in a (nested) value: where the expressions are."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in strings(key) + strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def expressions(value) -> list[str]:
    # A plain string ("HTTP from anywhere") refers to nothing; only "${...}" is evaluated.
    return [s for s in strings(value) if "${" in s]


def everything(config: Config) -> list:
    """Every body in the configuration, for finding references."""
    return [
        config.resources,
        config.data,
        config.variables,
        config.locals,
        config.outputs,
        config.modules,
        config.other,
    ]


def references(value) -> dict[str, set]:
    found = {"resource": set(), "data": set(), "var": set(), "local": set(), "module": set()}
    for text in expressions(value):
        found["resource"] |= set(RESOURCE_REFERENCE.findall(text))
        found["data"] |= set(DATA_REFERENCE.findall(text))
        for kind, name in NAMED_REFERENCE.findall(text):
            found[kind].add(name)
    return found


def referenced_name(expression, type_: str) -> str | None:
    """`aws_security_group.app_servers` in "${aws_security_group.app_servers.id}"."""
    for found_type, name in RESOURCE_REFERENCE.findall(str(expression)):
        if found_type == type_:
            return name
    return None


def literal(config: Config, value):
    """A value with a local of a literal ("${local.app_port}") replaced by that literal."""
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{local\.([A-Za-z_]\w*)\}", value)
        if match and match.group(1) in config.locals:
            return config.locals[match.group(1)]
    return value


# --- The variables' validations, evaluated -------------------------------------------------
#
# Terraform's validation conditions are expressions; the ones in variables.tf use only
# the few functions below, so they are evaluated here by rewriting them as Python. An
# expression outside that small language fails the test (NameError, SyntaxError), so a
# condition is never taken for true without being evaluated.


def _cidrnetmask(cidr: str) -> str:
    if "/" not in cidr:  # Terraform's cidrnetmask needs the prefix length
        raise ValueError(f"{cidr}: no prefix length")
    return str(ipaddress.IPv4Interface(cidr).netmask)  # IPv4 only, as Terraform's


def _regex(pattern: str, text: str) -> str:
    if not (match := re.search(pattern, text)):
        raise ValueError(f"{text!r} does not match {pattern!r}")  # Terraform's regex fails too
    return match.group(0)


def _can(thunk) -> bool:
    try:
        thunk()
    except (ValueError, TypeError, IndexError):
        return False
    return True


HCL_FUNCTIONS = {
    "alltrue": all,
    "can": _can,
    "cidrnetmask": _cidrnetmask,
    "contains": lambda items, value: value in items,
    "length": len,
    "regex": _regex,
}


def evaluate_condition(condition: str, variables: dict) -> bool:
    python = condition.removeprefix("${").removesuffix("}")
    python = re.sub(r"\[for (\w+) in (.+?) : (.+)\]", r"[\3 for \1 in \2]", python)
    python = python.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    python = re.sub(r"\bvar\.(\w+)", r'var["\1"]', python)
    python = python.replace("can(", "can(lambda: ")  # can() must see the error itself
    return eval(python, {"__builtins__": {}, "var": variables, **HCL_FUNCTIONS})  # noqa: S307


def validation_errors(config: Config, name: str, value, **others) -> list[str]:
    """The error messages Terraform would give for `-var name=value` (and `others`)."""
    variables = {key: body.get("default") for key, body in config.variables.items()}
    variables |= others | {name: value}
    return [
        rule["error_message"]
        for rule in block(config.variables[name], "validation")
        if not evaluate_condition(rule["condition"], variables)
    ]
