"""Scale-out: the throughput of 1, 2 and 4 app servers, each given the same CPU share.

One stack (scripts/stack, tooling/stack) with four app servers, each a single gunicorn
worker confined to CPU_SHARE of a core by its cgroup's quota. The stack's own nginx
spreads the requests over all four; for one and two app servers an nginx with the same
configuration (tooling/servers) sits in front of the first one or two. Each of the three
gets the same closed-loop load of anonymous classify: CLIENTS_PER_APP_SERVER clients per
app server, each sending its next photo as soon as the previous answer arrives.

Every photo's bytes are new (tooling/loadtest/photos.py), so the prediction cache (kept
by the photo's SHA-256, in Redis) never answers: every request is classified. Ideal
scale-out is N times one app server; less means something they share is the
bottleneck (the proxy, Redis, the load generator, the machine's cores), which is why
each row also says how much CPU the app servers, the proxy and the load generator used.
"""

import json
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, closing
from pathlib import Path
from typing import TYPE_CHECKING

from bench.load import BadAnswer, LoadResult, Request, closed_loop
from bench.table import Row, Target
from tooling.loadtest.photos import BIRD_PHOTOS, PhotoPool
from tooling.servers import Nginx, cpu_seconds
from tooling.servers.net import http_request, multipart_file
from tooling.stack.state import read_state
from tooling.stack_usage import group_cpu_seconds

if TYPE_CHECKING:
    from bench.context import BenchContext

APP_SERVER_COUNTS = (1, 2, 4)
# Four of them and the rest of the stack fit the machine's 2 cores with room to spare.
CPU_SHARE = 0.2
MEMORY_SHARE = "1g"
# Two requests in flight per single-worker app server: one being answered, one waiting,
# so none is ever idle between two requests; more would only lengthen the queue.
CLIENTS_PER_APP_SERVER = 2
WARM_UP_SECONDS, MEASURE_SECONDS = 3.0, 15.0
REQUEST_LIMIT = 5_000  # far above what MEASURE_SECONDS allows: time ends each run
# The proxy's per-address limit on classify (30 r/s) would cap the load generator, which
# is one address; it protects production, not what is measured here.
PROXY_SETTINGS = {"PROXY_CLASSIFY_RATE": "1000r/s", "PROXY_CLASSIFY_BURST": "1000"}
STACK_UP_TIMEOUT_SECONDS = 300

TARGETS = {2: 1.8, 4: 3.4}  # times one app server's throughput


def scaleout_rows(context: "BenchContext") -> list[Row]:
    state_dir = context.workdir / "stack"
    try:
        state = stack_up(state_dir, context.onnx_model, max(APP_SERVER_COUNTS))
        results = measure_each_count(state)
    finally:
        # The stack's supervisor runs in its own session, not as our child: its CPU
        # (and that of every part it started) is ours all the same.
        if described := read_state(state_dir):
            supervisor = described["supervisor"]["pid"]
            context.cpu_seconds_elsewhere += group_cpu_seconds(supervisor)
        stack_down(state_dir)
    return rows(results)


# --- The stack ----------------------------------------------------------------------------


def stack_command(state_dir: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "tooling.stack", "--state-dir", str(state_dir), *arguments]


def stack_up(state_dir: Path, onnx_model: Path, app_servers: int) -> dict:
    """`scripts/stack up`, as a user runs it; returns the stack's description."""
    proxy = [f"--proxy={name}={value}" for name, value in PROXY_SETTINGS.items()]
    command = stack_command(
        state_dir,
        "up",
        f"--app-servers={app_servers}",
        f"--cpu={CPU_SHARE}",
        f"--memory={MEMORY_SHARE}",
        "--workers=1",
        f"--onnx-model={onnx_model}",
        *proxy,
    )
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=STACK_UP_TIMEOUT_SECONDS, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/stack up failed:\n{done.stderr[-3000:]}")
    return read_state(state_dir)


def stack_down(state_dir: Path) -> None:
    """Stops whatever part of the stack was started (nothing to stop is no error)."""
    subprocess.run(stack_command(state_dir, "down"), capture_output=True, check=False)


def parts(state: dict, role: str) -> list[dict]:
    return [part for part in state["parts"] if part["role"] == role]


# --- The measurement ----------------------------------------------------------------------


class Measured:
    """One run: its load result and the CPU each part used, in cores."""

    def __init__(self, app_servers: int, load: LoadResult, served_by: dict[str, int]) -> None:
        self.app_servers = app_servers
        self.load = load
        self.served_by = served_by
        self.app_cpus: list[float] = []
        self.proxy_cpus = 0.0
        self.generator_cpus = 0.0

    @property
    def rate(self) -> float:
        return self.load.requests_per_second


def measure_each_count(state: dict) -> dict[int, Measured]:
    apps = parts(state, "app-server")
    addresses = [f"127.0.0.1:{app['port']}" for app in apps]
    photos = PhotoPool(BIRD_PHOTOS)
    # Each app server loads the model on its first requests: all of that before timing.
    warm_up(state["base_url"], photos, app_servers=len(apps))
    results = {}
    for count in APP_SERVER_COUNTS:
        with ExitStack() as stack:
            if count == len(apps):
                base_url = state["base_url"]
                proxy_pids = parts(state, "load-balancer")[0]["pids"]
            else:
                proxy = stack.enter_context(
                    closing(Nginx.load_balancer(addresses[:count], **PROXY_SETTINGS))
                )
                proxy.start()
                base_url, proxy_pids = proxy.url, proxy.pids()
            results[count] = measure(base_url, photos, apps[:count], proxy_pids)
    return results


def warm_up(base_url: str, photos: PhotoPool, *, app_servers: int) -> None:
    """A few requests to every app server (nginx takes turns: round robin)."""
    load(base_url, photos, clients=app_servers, max_requests=3 * app_servers, seconds=120)


def measure(base_url: str, photos: PhotoPool, apps: list[dict], proxy_pids: list[int]) -> Measured:
    clients = CLIENTS_PER_APP_SERVER * len(apps)
    load(base_url, photos, clients=clients, max_requests=REQUEST_LIMIT, seconds=WARM_UP_SECONDS)
    app_pids = [app["pids"] for app in apps]
    before = cpu_snapshot(app_pids, proxy_pids)
    result, served_by = load(
        base_url, photos, clients=clients, max_requests=REQUEST_LIMIT, seconds=MEASURE_SECONDS
    )
    after = cpu_snapshot(app_pids, proxy_pids)
    measured = Measured(len(apps), result, served_by)
    wall = after["wall"] - before["wall"]
    measured.app_cpus = [
        (now - then) / wall for now, then in zip(after["apps"], before["apps"], strict=True)
    ]
    measured.proxy_cpus = (after["proxy"] - before["proxy"]) / wall
    measured.generator_cpus = (after["generator"] - before["generator"]) / wall
    return measured


def cpu_snapshot(app_pids: list[list[int]], proxy_pids: list[int]) -> dict:
    """CPU seconds so far: each app server's processes, the proxy's, and this process's
    (the load generator's threads)."""
    return {
        "wall": time.monotonic(),
        "apps": [sum(cpu_seconds(pid) for pid in pids) for pids in app_pids],
        "proxy": sum(cpu_seconds(pid) for pid in proxy_pids),
        "generator": time.process_time(),
    }


def load(
    base_url: str, photos: PhotoPool, *, clients: int, max_requests: int, seconds: float
) -> tuple[LoadResult, dict[str, int]]:
    """Closed loop of POST /api/v1/classify, new photo bytes each time; counts which app
    server answered (X-Served-By)."""
    url = base_url + "/api/v1/classify"
    lock = threading.Lock()
    served_by: dict[str, int] = {}
    next_photo = threading.Lock()  # PhotoPool's random generator is not thread-safe

    def send_new_photo(_: Request) -> dict:
        with next_photo:
            data = photos.next()
        body, headers = multipart_file("image", "bird.jpg", data)
        answer = http_request("POST", url, body=body, headers=headers, timeout=60)
        if answer.status != 200:
            raise BadAnswer(f"POST {url} answered {answer.status}: {answer.body[:300]!r}")
        server = answer.headers.get("X-Served-By", "?")
        with lock:
            served_by[server] = served_by.get(server, 0) + 1
        return json.loads(answer.body)

    # The request is made anew for each send, in send_new_photo.
    result = closed_loop(
        Request("POST", url),
        clients=clients,
        max_requests=max_requests,
        max_seconds=seconds,
        send_one=send_new_photo,
    )
    return result, served_by


# --- The rows -----------------------------------------------------------------------------


def rows(results: dict[int, Measured]) -> list[Row]:
    one = results[1].rate
    table = []
    for count, measured in results.items():
        name = f"scale-out throughput, {count} app server" + ("s" if count > 1 else "")
        target = None
        if count in TARGETS:
            times = TARGETS[count]
            target = Target(times * one, f"≥ {times}x one", higher_is_better=True)
        table.append(
            Row(
                name,
                measured.rate,
                "req/s",
                how=describe(measured),
                baseline=one if count > 1 else None,
                baseline_name="one",
                target=target,
            )
        )
    return table


def describe(measured: Measured) -> str:
    load = measured.load
    app_cpus = "+".join(f"{cpus:.2f}" for cpus in measured.app_cpus)
    spread = ",".join(f"{name} {count}" for name, count in sorted(measured.served_by.items()))
    return (
        f"classify, new bytes each; {CLIENTS_PER_APP_SERVER * measured.app_servers} clients, "
        f"{len(load.latencies_ms)} req in {load.seconds:.0f} s ({spread}); "
        f"CPU: app {app_cpus} of {CPU_SHARE} each, nginx {measured.proxy_cpus:.2f}, "
        f"load generator {measured.generator_cpus:.2f}"
    )
