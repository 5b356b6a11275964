"""`scripts/stack` (issue #14): the N-tier stack started, described, used, crashed and
stopped through the script, as a student or a grader would.

One stack for the module (it takes a minute to start): two app servers at small
CPU/memory shares. The module's teardown runs `scripts/stack down` and checks that it
leaves no process and no cgroup behind; a failure there fails the run.
"""

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.stack.stack_script import stack, status
from tooling.photos import bird_jpeg
from tooling.servers.net import http_get, http_request, multipart_file

pytestmark = [
    # It brings its own PostgreSQL: the PostGIS run need not repeat it.
    pytest.mark.database_independent,
    pytest.mark.measures_load,  # scripts/test runs it alone
    pytest.mark.skipif(os.geteuid() != 0, reason="cgroups can only be made as root"),
]

CPU_SHARE = 0.3
MEMORY = "768m"
MEMORY_BYTES = 768 * 2**20
ROLES = ["database", "shared-cache", "object-store", "cdn", "app-server", "app-server",
         "load-balancer"]  # fmt: skip


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory, onnx_model):
    state_dir = tmp_path_factory.mktemp("stack")
    up = stack(
        state_dir, "up", "--app-servers", "2", "--cpu", str(CPU_SHARE), "--memory", MEMORY,
        "--onnx-model", str(onnx_model), "--proxy", "PROXY_DEBUG_UPSTREAM=true",
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr
        yield state_dir
    finally:
        described = status(state_dir)
        down = stack(state_dir, "down")
        assert down.returncode == 0, down.stderr
        assert_nothing_left(described)


def assert_nothing_left(described: dict) -> None:
    pids = [pid for part in described["parts"] for pid in part["pids"]]
    pids.append(described.get("supervisor", {}).get("pid"))
    for pid in filter(None, pids):
        assert not Path(f"/proc/{pid}").exists() or is_zombie(pid), f"pid {pid} still runs"
    for part in described["parts"]:
        for directory in (part["cgroup"] or {}).get("directories", []):
            assert not Path(directory).exists(), directory


def is_zombie(pid: int) -> bool:
    return "zombie" in Path(f"/proc/{pid}/status").read_text()


@pytest.fixture(scope="module")
def base_url(state_dir) -> str:
    return status(state_dir)["base_url"]


def app_servers(state_dir: Path) -> list[dict]:
    return [part for part in status(state_dir)["parts"] if part["role"] == "app-server"]


def requests_logged(state_dir: Path, path: str) -> int:
    """How many requests for `path` the app servers' access logs hold, all together."""
    line = re.compile(rf'"[A-Z]+ {re.escape(path)} HTTP/')
    return sum(
        len(line.findall(Path(app["log"]).read_text(errors="replace")))
        for app in app_servers(state_dir)
    )


# --- up and status --------------------------------------------------------------------


def test_status_describes_every_part(state_dir, base_url):
    described = status(state_dir)

    assert described["status"] == "ready"
    assert described["healthy"] is True
    assert [part["role"] for part in described["parts"]] == ROLES
    assert base_url.startswith("http://127.0.0.1:")
    for part in described["parts"]:
        assert part["healthy"], part
        assert part["pids"][0] == part["pid"]
        assert os.getpgid(part["pid"]) == part["pid"]  # each its own process group
    names = [part["name"] for part in described["parts"] if part["role"] == "app-server"]
    assert names == ["app1", "app2"]


def test_a_second_up_is_refused_while_the_stack_runs(state_dir):
    again = stack(state_dir, "up", "--app-servers", "1")
    assert again.returncode == 1
    assert "already runs" in again.stderr


def test_each_app_server_is_confined_to_its_own_cgroup(state_dir):
    for app in app_servers(state_dir):
        cgroup = app["cgroup"]
        limits = cgroup["limit_files"]
        files = {what: Path(path).read_text().split() for what, path in limits.items()}
        if cgroup["version"] == 1:
            quota, period = files["cpu"][0], files["cpu_period"][0]
        else:
            quota, period = files["cpu"]
        assert int(quota) == round(CPU_SHARE * int(period))
        assert int(files["memory"][0]) == MEMORY_BYTES
        for directory in cgroup["directories"]:
            members = {int(pid) for pid in (Path(directory) / "cgroup.procs").read_text().split()}
            assert set(app["pids"]) <= members  # the master and its workers
    first, second = app_servers(state_dir)
    assert first["cgroup"]["directories"] != second["cgroup"]["directories"]


# --- Requests through the proxy ---------------------------------------------------------


def test_a_photo_is_classified_through_the_proxy(base_url):
    body, headers = multipart_file("image", "flamingo.jpg", bird_jpeg())
    response = http_request("POST", base_url + "/api/v1/classify", body=body, headers=headers)

    assert response.status == 200, response.body
    answer = json.loads(response.body)
    assert answer["is_bird"] is True
    assert answer["species"][0]["label"] == "flamingo"


@pytest.fixture(scope="module")
def tokens(state_dir) -> dict[str, str]:
    """Two users made with `scripts/stack manage`, and an API token each."""
    tokens = {}
    for username in ("alice", "bob"):
        create = (
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user({username!r})"
        )
        made = stack(state_dir, "manage", "shell", "-c", create)
        assert made.returncode == 0, made.stderr
        token = stack(state_dir, "manage", "create_api_token", username)
        assert token.returncode == 0, token.stderr
        tokens[username] = token.stdout.strip()
    return tokens


def test_a_per_user_answer_is_never_served_to_another_user(base_url, tokens):
    alice = {"Authorization": f"Bearer {tokens['alice']}"}
    bob = {"Authorization": f"Bearer {tokens['bob']}"}
    body, headers = multipart_file("image", "mine.jpg", bird_jpeg())
    stored = http_request(
        "POST", base_url + "/api/v1/submissions", body=body, headers={**headers, **alice}
    )
    assert stored.status == 201, stored.body  # on S3, through the real pipeline

    lists = {
        name: [http_get(base_url + "/api/v1/submissions", headers=who) for _ in range(2)]
        for name, who in (("alice", alice), ("bob", bob))
    }

    for response in lists["alice"] + lists["bob"]:
        assert response.status == 200
        assert response.headers["X-Cache-Status"] == "BYPASS"
    assert [len(json.loads(r.body)["items"]) for r in lists["alice"]] == [1, 1]
    assert [len(json.loads(r.body)["items"]) for r in lists["bob"]] == [0, 0]


def a_static_file(base_url: str) -> str:
    """The path of a static file the home page links (its hashed name: DEBUG is off)."""
    page = http_get(base_url + "/").body.decode()
    return re.search(r'(/static/[^"\']+\.css)', page).group(1)


def test_a_cacheable_file_is_served_from_the_cache_without_the_app(state_dir, base_url):
    path = a_static_file(base_url)
    first = http_get(base_url + path)
    asked_app = requests_logged(state_dir, path)
    again = [http_get(base_url + path) for _ in range(5)]

    assert first.status == 200
    assert asked_app >= 1  # the first one reached an app server
    assert {response.headers["X-Cache-Status"] for response in again} == {"HIT"}
    assert {response.body for response in again} == {first.body}
    assert requests_logged(state_dir, path) == asked_app  # no app server saw the others


# --- A crash ------------------------------------------------------------------------------


def test_a_killed_app_server_is_brought_back_and_rejoins(state_dir, base_url):
    victim = app_servers(state_dir)[0]
    os.killpg(victim["pid"], signal.SIGKILL)

    # Meanwhile nginx sends every request to the other app server.
    answers = [http_get(base_url + "/healthz").status for _ in range(20)]
    assert set(answers) == {200}

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        back = app_servers(state_dir)[0]
        if back["healthy"] and back["pid"] != victim["pid"]:
            break
        time.sleep(0.5)
    assert back["healthy"], back
    assert back["restarts"] == 1
    assert back["port"] == victim["port"]
    for directory in back["cgroup"]["directories"]:  # back in its own cgroup
        members = {int(pid) for pid in (Path(directory) / "cgroup.procs").read_text().split()}
        assert set(back["pids"]) <= members

    # Rejoined: nginx sends it requests again (it retries a failed server after 10 s).
    served_by: set[str] = set()
    deadline = time.monotonic() + 30
    while len(served_by) < 2 and time.monotonic() < deadline:
        response = http_get(base_url + "/healthz")
        assert response.status == 200
        served_by.add(response.headers["X-Upstream"])
        time.sleep(0.1)
    assert served_by == {app["url"].removeprefix("http://") for app in app_servers(state_dir)}
