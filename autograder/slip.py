"""Reading the student's permission slip, deployment.json, from the submission folder.

The slip is the only thing a student uploads, so every way of getting it wrong ends in
one SlipWrong whose message says what was expected, what was found, and how to fix it:
a student on the night before the deadline must not have to guess. Secrets are never
repeated back in a message (Gradescope shows messages to the student, and staff read
them), only their length and first characters.

The slip looks like this (a role is better than keys; see docs/aws/):

    {"url": "https://d111111abcdef8.cloudfront.net",
     "region": "eu-west-1",
     "role_arn": "arn:aws:iam::123456789012:role/birdai-grader",
     "external_id": "the external id the assignment gives you"}

or, with an IAM user's access key instead of the role:

    {"url": "...", "region": "...",
     "access_key_id": "AKIA...", "secret_access_key": "..."}
"""

import difflib
import ipaddress
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from autograder.checks import DeploymentWrong, Slip

SLIP_NAME = "deployment.json"
MAX_SLIP_BYTES = 64 * 1024  # a slip is a few hundred bytes; anything large is another file
KEYS_AUTH = ("access_key_id", "secret_access_key")
ROLE_AUTH = ("role_arn", "external_id")
KNOWN_KEYS = ("url", "region", *KEYS_AUTH, *ROLE_AUTH)

# What AWS's own names look like (IAM's and EC2's documented formats).
ACCESS_KEY_ID = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
SECRET_ACCESS_KEY = re.compile(r"[A-Za-z0-9/+]{40}")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")
AVAILABILITY_ZONE = re.compile(r"([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d)[a-z]")

# The names students reach for instead of ours (the AWS console's CSV, the CLI's
# config file, environment variables), each normalised by _plain().
OTHER_NAMES = {
    "accesskeyid": "access_key_id",
    "awsaccesskeyid": "access_key_id",
    "accesskey": "access_key_id",
    "keyid": "access_key_id",
    "secretaccesskey": "secret_access_key",
    "awssecretaccesskey": "secret_access_key",
    "secretkey": "secret_access_key",
    "secret": "secret_access_key",
    "rolearn": "role_arn",
    "role": "role_arn",
    "arn": "role_arn",
    "externalid": "external_id",
    "awsregion": "region",
    "awsdefaultregion": "region",
    "deploymenturl": "url",
    "siteurl": "url",
    "endpoint": "url",
    "address": "url",
}
EXAMPLE = (
    '{"url": "https://your-site.example.com", "region": "eu-west-1", '
    '"role_arn": "arn:aws:iam::123456789012:role/birdai-grader", '
    '"external_id": "the id the assignment gives you"}'
)


class SlipWrong(DeploymentWrong):
    """The permission slip is missing or wrong: the student's to fix."""


def read_slip(submission: Path, *, allow_private_urls: bool = False) -> tuple[Slip, str]:
    """The slip in `submission`, and a note for the student saying which file was read
    and what it says (never the secret). `allow_private_urls` lets a local test point
    the grader at a loopback stack; Gradescope cannot reach one."""
    path = find_slip_file(submission)
    slip = parse_slip(read_text(path, submission), allow_private_urls=allow_private_urls)
    return slip, describe(slip, path.relative_to(submission))


def find_slip_file(submission: Path) -> Path:
    """deployment.json at the top of the submission, or else the one file that can only
    be it (a browser's "deployment (1).json", a zipped folder); never a guess between
    several."""
    if not submission.is_dir():
        raise SlipWrong(
            f"The grader found no submission folder ({submission}). Expected: your upload, "
            f"one file named {SLIP_NAME}. Fix: submit {SLIP_NAME} again."
        )
    exact = submission / SLIP_NAME
    if exact.is_file():
        return exact
    files = submitted_files(submission)
    candidates = [path for path in files if looks_like_a_slip(path)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise SlipWrong(
            f"Expected one file named {SLIP_NAME} in your submission; found "
            f"{list_of_files(files, submission) or 'no files at all'}. Fix: upload "
            f"{SLIP_NAME}, a text file like {EXAMPLE}."
        )
    raise SlipWrong(
        f"Expected one file named {SLIP_NAME}; found several that could be it: "
        f"{list_of_files(candidates, submission)}. The grader will not guess. Fix: submit "
        f"only the one you mean, named {SLIP_NAME}."
    )


def submitted_files(submission: Path) -> list[Path]:
    """Every file submitted, without the ones a Mac or an editor adds by itself."""
    return sorted(
        path
        for path in submission.rglob("*")
        if path.is_file()
        and not any(
            part.startswith(".") or part == "__MACOSX"
            for part in path.relative_to(submission).parts
        )
        and not path.name.endswith("~")
    )


def looks_like_a_slip(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".json", ".json.txt")) or name.startswith("deployment")


def list_of_files(files: list[Path], submission: Path, most: int = 10) -> str:
    names = [str(path.relative_to(submission)) for path in files[:most]]
    more = f" and {len(files) - most} more" if len(files) > most else ""
    return ", ".join(names) + more


def read_text(path: Path, submission: Path) -> str:
    name = path.relative_to(submission)
    size = path.stat().st_size
    if size > MAX_SLIP_BYTES:
        raise SlipWrong(
            f"{name} is {size:,} bytes; expected a small text file (a few hundred bytes) "
            f"like {EXAMPLE}. Fix: check you uploaded {SLIP_NAME} and not another file."
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM from Windows Notepad is fine
    except UnicodeDecodeError:
        raise SlipWrong(
            f"{name} is not a text file (it is not UTF-8: a Word or PDF document, an "
            f"image, a zip?). Expected plain JSON text like {EXAMPLE}. Fix: write it in a "
            "plain-text editor (VS Code, nano, Notepad) and save it as UTF-8."
        ) from None
    if not text.strip():
        raise SlipWrong(f"{name} is empty. Expected JSON like {EXAMPLE}. Fix: fill it in.")
    return text


def parse_slip(text: str, *, allow_private_urls: bool = False) -> Slip:
    """The slip a JSON text describes; SlipWrong names the first mistake in it."""
    fields = json_object(text)
    check_keys(fields)
    values = {key: string_value(fields, key) for key in fields}
    return Slip(
        url=check_url(values.get("url", ""), allow_private=allow_private_urls),
        region=check_region(values.get("region", "")),
        **check_credentials(values),
    )


def json_object(text: str) -> dict:
    try:
        fields = json.loads(text, object_pairs_hook=refuse_repeated_keys)
    except json.JSONDecodeError as error:
        raise SlipWrong(
            f"{SLIP_NAME} is not valid JSON: line {error.lineno}, column {error.colno}: "
            f"{error.msg}. The usual causes: a comma after the last entry, 'single' quotes "
            'instead of "double" ones, a comment, or “curly” quotes from a word '
            f"processor. Fix: compare it with {EXAMPLE}, or run `python3 -m json.tool "
            f"{SLIP_NAME}`, which points at the mistake."
        ) from None
    if not isinstance(fields, dict):
        raise SlipWrong(
            f"{SLIP_NAME} holds a JSON {json_type(fields)}; expected one object, "
            f"{{...}}, like {EXAMPLE}. Fix: put the entries between one pair of braces."
        )
    return fields


def refuse_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise SlipWrong(
                f'"{key}" appears {keys.count(key)} times in {SLIP_NAME}; expected each key '
                "once (JSON keeps only the last, which may not be the one you meant). Fix: "
                "delete the others."
            )
    return dict(pairs)


def check_keys(fields: dict) -> None:
    for key in fields:
        if key not in KNOWN_KEYS:
            raise SlipWrong(
                f'{SLIP_NAME} has a key "{key}" that the grader does not know. Expected only '
                f"{', '.join(KNOWN_KEYS)}.{did_you_mean(key)}"
            )
    for key in ("url", "region"):
        if key not in fields:
            raise SlipWrong(
                f'{SLIP_NAME} has no "{key}"; found only {", ".join(fields) or "no keys"}. '
                f"Expected both url and region, like {EXAMPLE}."
            )


def did_you_mean(key: str) -> str:
    guess = OTHER_NAMES.get(_plain(key))
    if guess is None:
        close = difflib.get_close_matches(key.lower(), KNOWN_KEYS, n=1, cutoff=0.7)
        guess = close[0] if close else None
    if guess is None:
        return " Fix: remove it."
    return f' Fix: did you mean "{guess}"? Rename it.'


def _plain(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def string_value(fields: dict, key: str) -> str:
    value = fields[key]
    if not isinstance(value, str):
        raise SlipWrong(
            f'"{key}" in {SLIP_NAME} is a JSON {json_type(value)}; expected a string in '
            f'double quotes. Fix: write "{key}": "..."'
        )
    value = value.strip()
    if not value:
        raise SlipWrong(f'"{key}" in {SLIP_NAME} is empty. Fix: fill it in.')
    return value


def json_type(value: object) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "number")


def check_url(url: str, *, allow_private: bool) -> str:
    """The site's root address, http(s), with a host and nothing after it."""
    parts = urlsplit(url)
    if "://" not in url:
        raise SlipWrong(
            f'"url" is {url!r}: it has no https:// in front. Expected the address of your '
            f'site as a browser shows it. Fix: "url": "https://{url}"'
        )
    if parts.scheme not in {"http", "https"}:
        raise SlipWrong(
            f'"url" is {url!r}: it starts with {parts.scheme}://. Expected a web address, '
            "starting with https:// (or http://). Fix: give the address your browser shows "
            "for your site."
        )
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when asked for it)
    except ValueError:
        raise SlipWrong(
            f'"url" is {url!r}: the port after the colon is not a number from 0 to 65535. '
            "Fix: give the address your browser shows for your site."
        ) from None
    if not parts.hostname or parts.username or parts.password:
        raise SlipWrong(
            f'"url" is {url!r}; expected https://HOST with a host name and no user name or '
            "password in it. Fix: give the address your browser shows for your site."
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        root = f"{parts.scheme}://{parts.netloc}"
        raise SlipWrong(
            f'"url" is {url!r}, the address of one page; expected the site itself, with '
            f'nothing after the host: the grader finds the pages. Fix: "url": "{root}"'
        )
    if not allow_private and is_private_host(parts.hostname):
        raise SlipWrong(
            f'"url" is {url!r}, an address inside your own computer or network, which the '
            "grader (on Gradescope's servers) cannot reach. Expected your deployment's "
            "public address: the load balancer's or CloudFront's DNS name. Fix: copy it from "
            "the AWS console (EC2 > Load balancers, or CloudFront > Distributions)."
        )
    return f"{parts.scheme}://{parts.netloc}"


def is_private_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".local", ".internal", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: the grader does not look it up here
    return not address.is_global


def check_region(region: str) -> str:
    zone = AVAILABILITY_ZONE.fullmatch(region)
    if zone:
        raise SlipWrong(
            f'"region" is {region!r}, an availability zone (a data centre inside a region). '
            f'Expected the region itself. Fix: "region": "{zone.group(1)}"'
        )
    if REGION.fullmatch(region.lower()) and region != region.lower():
        raise SlipWrong(
            f'"region" is {region!r}; region codes are lower case. '
            f'Fix: "region": "{region.lower()}"'
        )
    if not REGION.fullmatch(region):
        raise SlipWrong(
            f'"region" is {region!r}; expected an AWS region code such as "eu-west-1" or '
            '"us-east-1", not its name ("Ireland", "N. Virginia"). Fix: use the code the AWS '
            "console shows at the top right, next to the region's name."
        )
    return region


def check_credentials(values: dict[str, str]) -> dict[str, str]:
    """Exactly one way in: an access key (id and secret), or a role with its external id."""
    has_keys = any(key in values for key in KEYS_AUTH)
    has_role = any(key in values for key in ROLE_AUTH)
    if has_keys and has_role:
        raise SlipWrong(
            f"{SLIP_NAME} has both an access key and a role; expected one way in, not "
            "two (the grader would have to guess which you meant). Fix: keep the role "
            "(role_arn and external_id, the safer choice) and delete access_key_id and "
            "secret_access_key."
        )
    if not (has_keys or has_role):
        raise SlipWrong(
            f"{SLIP_NAME} has no AWS credentials; expected either role_arn and external_id "
            "(a role the grader may assume: recommended) or access_key_id and "
            "secret_access_key (a read-only IAM user's key). Fix: add one pair; the "
            "assignment's AWS page says how to create it."
        )
    pair = KEYS_AUTH if has_keys else ROLE_AUTH
    for key in pair:
        if key not in values:
            other = next(name for name in pair if name != key)
            raise SlipWrong(
                f'{SLIP_NAME} has "{other}" but no "{key}"; the two go together. Fix: add "{key}".'
            )
    if has_keys:
        return check_access_key(values["access_key_id"], values["secret_access_key"])
    return check_role(values["role_arn"], values["external_id"])


def check_access_key(key_id: str, secret: str) -> dict[str, str]:
    if SECRET_ACCESS_KEY.fullmatch(key_id) or ACCESS_KEY_ID.fullmatch(secret):
        raise SlipWrong(
            f'"access_key_id" holds {masked(key_id)}, which looks like a secret access key '
            "(40 characters). Expected the key's id there: 20 characters starting with "
            'AKIA. Fix: swap the two values, or copy "Access key ID" from the AWS console '
            'into access_key_id and "Secret access key" into secret_access_key.'
        )
    if key_id.startswith("ASIA") and ACCESS_KEY_ID.fullmatch(key_id):
        raise SlipWrong(
            f'"access_key_id" is {masked(key_id)}, a temporary key (it starts with ASIA): '
            "it stops working within hours, and needs a session token the slip has no "
            "place for. Expected a read-only IAM user's key (starting with AKIA), or better "
            "a role. Fix: create an access key for the grader's IAM user."
        )
    if not ACCESS_KEY_ID.fullmatch(key_id):
        raise SlipWrong(
            f'"access_key_id" is {masked(key_id)}; expected an AWS access key id: 20 '
            'capital letters and digits starting with AKIA. Fix: copy "Access key ID" from '
            "the AWS console (IAM > Users > your grader user > Security credentials)."
        )
    if not SECRET_ACCESS_KEY.fullmatch(secret):
        raise SlipWrong(
            f'"secret_access_key" is {masked(secret)}; expected 40 characters of letters, '
            'digits, / and +. Fix: copy "Secret access key" as AWS showed it when you '
            "created the key (it is shown once: if it is lost, create a new key)."
        )
    return {"access_key_id": key_id, "secret_access_key": secret}


def check_role(role_arn: str, external_id: str) -> dict[str, str]:
    if not ROLE_ARN.fullmatch(role_arn):
        kind = re.match(r"arn:aws[a-z-]*:iam::\d{12}:(\w+)/", role_arn)
        found = f"the ARN of a {kind.group(1)}, not a role" if kind else "not a role's ARN"
        raise SlipWrong(
            f'"role_arn" is {role_arn!r}: {found}. Expected a role\'s ARN, like '
            '"arn:aws:iam::123456789012:role/birdai-grader". Fix: copy "ARN" from the AWS '
            "console (IAM > Roles > your grader role)."
        )
    if not EXTERNAL_ID.fullmatch(external_id):
        raise SlipWrong(
            f'"external_id" is {masked(external_id)}; expected 2 to 1224 letters, digits or '
            "+=,.@:/-_ with no spaces: the external id the assignment gives you, the same "
            "as in your role's trust policy. Fix: copy it from the assignment."
        )
    return {"role_arn": role_arn, "external_id": external_id}


def masked(secret: str) -> str:
    """Enough of a credential to recognise it, never enough to use it."""
    return f"{secret[:4]!r}... ({len(secret)} characters)"


def describe(slip: Slip, name: Path) -> str:
    """What the grader read, for the student to confirm: no secret in it."""
    if slip.role_arn:
        way_in = f"the role {slip.role_arn}"
    else:
        way_in = f"the access key {slip.access_key_id}"  # an id, not a secret
    note = f"Read {name}: your site at {slip.url}, region {slip.region}, through {way_in}."
    if str(name) != SLIP_NAME:
        note += f" (Next time, please name it {SLIP_NAME}.)"
    return note
