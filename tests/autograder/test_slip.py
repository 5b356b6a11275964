"""autograder/slip.py: every way a student can get deployment.json wrong ends in one
message that names the mistake and says how to fix it, and never repeats a secret."""

import json

import pytest

from autograder.checks import DeploymentWrong, Slip
from autograder.slip import SlipWrong, parse_slip, read_slip

pytestmark = pytest.mark.database_independent

# Made-up credentials in AWS's formats (AWS's own documentation examples).
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ROLE = "arn:aws:iam::123456789012:role/birdai-grader"
WITH_KEYS = {
    "url": "https://birds.example.com",
    "region": "eu-west-1",
    "access_key_id": KEY_ID,
    "secret_access_key": SECRET,
}
WITH_ROLE = {
    "url": "https://d111111abcdef8.cloudfront.net",
    "region": "us-east-1",
    "role_arn": ROLE,
    "external_id": "birdai-2026-course",
}


def submit(folder, files: dict[str, str | bytes]):
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    return folder


def mistake(text: str, **options) -> str:
    """The message a slip with this text gets; fails if the slip is accepted."""
    with pytest.raises(SlipWrong) as raised:
        parse_slip(text, **options)
    message = str(raised.value)
    assert "Fix:" in message or "Expected" in message, message
    assert SECRET not in message
    return message


def with_changes(base: dict, **changes) -> str:
    fields = {**base, **changes}
    return json.dumps({key: value for key, value in fields.items() if value is not None})


def test_a_slip_with_keys_and_one_with_a_role_are_read_as_written(tmp_path):
    slip, note = read_slip(submit(tmp_path, {"deployment.json": json.dumps(WITH_KEYS)}))
    assert slip == Slip(**WITH_KEYS)
    assert "https://birds.example.com" in note
    assert KEY_ID in note
    assert SECRET not in note

    assert parse_slip(json.dumps(WITH_ROLE)) == Slip(**WITH_ROLE)


def test_slip_problems_cost_points_like_any_wrong_deployment():
    assert issubclass(SlipWrong, DeploymentWrong)


def test_spaces_a_windows_bom_and_a_trailing_slash_are_forgiven(tmp_path):
    text = with_changes(WITH_KEYS, url=" https://birds.example.com/ ", region="eu-west-1\n")
    submit(tmp_path, {"deployment.json": "\ufeff" + text})
    slip, _ = read_slip(tmp_path)
    assert slip.url == "https://birds.example.com"
    assert slip.region == "eu-west-1"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "found no files at all"),
        ({"notes.txt": "hi", "app.py": ""}, "found app.py, notes.txt"),
        (
            {"deployment (1).json": "{}", "deployment (2).json": "{}"},
            "found several that could be it: deployment (1).json, deployment (2).json",
        ),
    ],
)
def test_no_slip_or_several_candidates(tmp_path, files, expected):
    with pytest.raises(SlipWrong, match=r"Expected one file named deployment\.json") as raised:
        read_slip(submit(tmp_path, files))
    assert expected in str(raised.value)


@pytest.mark.parametrize("name", ["Deployment.JSON", "deployment (1).json", "project/x.json"])
def test_the_one_file_that_can_only_be_the_slip_is_read_with_a_reminder(tmp_path, name):
    submit(tmp_path, {name: json.dumps(WITH_ROLE), ".DS_Store": b"\0", "__MACOSX/._x": "x"})
    slip, note = read_slip(tmp_path)
    assert slip.role_arn == ROLE
    assert f"Read {name}" in note
    assert "please name it deployment.json" in note


def test_a_missing_submission_folder(tmp_path):
    with pytest.raises(SlipWrong, match="found no submission folder"):
        read_slip(tmp_path / "absent")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"%PDF-1.7\n\xe2\xe3\xcf\xd3 binary", "is not a text file"),
        (b"{" + b" " * 70_000 + b"}", "expected a small text file"),
    ],
)
def test_files_that_are_not_a_slip(tmp_path, content, expected):
    with pytest.raises(SlipWrong, match=expected):
        read_slip(submit(tmp_path, {"deployment.json": content}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"url": "https://a.example.com",}', "not valid JSON: line 1, column 33"),
        ("{'url': 'https://a.example.com'}", "not valid JSON"),
        ('{"url": "https://a.example.com" // mine\n}', "not valid JSON"),
        ('["https://a.example.com"]', "holds a JSON list; expected one object"),
        ('"https://a.example.com"', "holds a JSON string; expected one object"),
        ('{"url": "https://a.example.com", "url": "https://b.example.com"}', "appears 2 times"),
    ],
)
def test_text_that_is_not_one_json_object(text, expected):
    assert expected in mistake(text)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("acces_key_id", 'did you mean "access_key_id"?'),
        ("AWS_SECRET_ACCESS_KEY", 'did you mean "secret_access_key"?'),
        ("Access key ID", 'did you mean "access_key_id"?'),
        ("RoleArn", 'did you mean "role_arn"?'),
        ("aws_session_token", "Fix: remove it."),
    ],
)
def test_an_unknown_key_is_named_with_the_likely_right_one(key, expected):
    message = mistake(with_changes(WITH_ROLE, **{key: "x"}))
    assert f'has a key "{key}" that the grader does not know' in message
    assert expected in message


@pytest.mark.parametrize("key", ["url", "region"])
def test_a_missing_url_or_region(key):
    assert f'has no "{key}"' in mistake(with_changes(WITH_KEYS, **{key: None}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, '"region" in deployment.json is a JSON number; expected a string'),
        (None, 'has no "region"'),
        ("  ", '"region" in deployment.json is empty'),
    ],
)
def test_values_must_be_filled_in_strings(value, expected):
    fields = {**WITH_KEYS, "region": value}
    if value is None:
        del fields["region"]
    assert expected in mistake(json.dumps(fields))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "birds.example.com",
            "no https:// in front. Expected the address of your site as a "
            'browser shows it. Fix: "url": "https://birds.example.com"',
        ),
        ("ftp://birds.example.com", "it starts with ftp://"),
        ("https://", "expected https://HOST with a host name"),
        ("https://me:pw@birds.example.com", "no user name or password"),
        ("https://birds.example.com:80a", "the port after the colon is not a number"),
        ("https://birds.example.com/history/", 'Fix: "url": "https://birds.example.com"'),
        ("https://birds.example.com/?page=2", "the address of one page"),
        ("https://birds.example.com/#top", "the address of one page"),
        ("http://localhost:8000", "cannot reach"),
        ("http://127.0.0.1:8000", "cannot reach"),
        ("http://10.0.1.17", "cannot reach"),
        ("http://ip-10-0-1-17.ec2.internal", "cannot reach"),
    ],
)
def test_urls_that_are_not_a_public_site_root(url, expected):
    assert expected in mistake(with_changes(WITH_KEYS, url=url))


def test_a_local_test_may_name_a_loopback_site():
    text = with_changes(WITH_KEYS, url="http://127.0.0.1:8123")
    assert parse_slip(text, allow_private_urls=True).url == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (
            "eu-west-1a",
            "an availability zone (a data centre inside a region). Expected the "
            'region itself. Fix: "region": "eu-west-1"',
        ),
        ("EU-WEST-1", 'lower case. Fix: "region": "eu-west-1"'),
        ("Ireland", 'expected an AWS region code such as "eu-west-1"'),
        ("eu-west", 'expected an AWS region code such as "eu-west-1"'),
    ],
)
def test_regions_that_are_not_a_region_code(region, expected):
    assert expected in mistake(with_changes(WITH_KEYS, region=region))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"access_key_id": None, "secret_access_key": None}, "has no AWS credentials"),
        ({"role_arn": ROLE, "external_id": "x-y"}, "has both an access key and a role"),
        ({"secret_access_key": None}, 'has "access_key_id" but no "secret_access_key"'),
        ({"access_key_id": None}, 'has "secret_access_key" but no "access_key_id"'),
        ({"access_key_id": SECRET, "secret_access_key": KEY_ID}, "looks like a secret access"),
        ({"access_key_id": SECRET}, "Fix: swap the two values"),
        ({"access_key_id": "ASIAIOSFODNN7EXAMPLE"}, "a temporary key (it starts with ASIA)"),
        ({"access_key_id": "AKIA-not-a-key"}, "expected an AWS access key id: 20"),
        ({"secret_access_key": SECRET[:-3]}, "expected 40 characters"),
    ],
)
def test_access_key_mistakes(changes, expected):
    assert expected in mistake(with_changes(WITH_KEYS, **changes))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"external_id": None}, 'has "role_arn" but no "external_id"'),
        ({"role_arn": None}, 'has "external_id" but no "role_arn"'),
        ({"role_arn": "arn:aws:iam::123456789012:user/grader"}, "the ARN of a user, not a role"),
        ({"role_arn": "birdai-grader"}, "not a role's ARN"),
        ({"external_id": "has spaces in it"}, "with no spaces"),
    ],
)
def test_role_mistakes(changes, expected):
    assert expected in mistake(with_changes(WITH_ROLE, **changes))


def test_a_secret_is_never_repeated_in_a_message():
    message = mistake(with_changes(WITH_KEYS, secret_access_key=SECRET + "!"))
    assert SECRET not in message
    assert "'wJal'... (41 characters)" in message
