"""`scripts/stack`'s command line: up, down, status, manage, stop and start of one part
(and supervise, which `up` starts in the background)."""

import argparse
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tooling.servers.gunicorn import PROJECT_ROOT
from tooling.servers.net import http_status, tcp_port_open
from tooling.stack.cgroups import Cgroup, Share
from tooling.stack.state import (
    DEFAULT_STATE_DIR,
    FAILED,
    READY,
    alive_pids,
    read_state,
    remove_state,
    same_process,
)
from tooling.stack.supervisor import HELD_DIR, StackOptions, Supervisor

DEFAULT_ONNX_MODEL = PROJECT_ROOT / "var" / "models" / "efficientnet-lite0.onnx"
# PostgreSQL, S3, N app servers loading the model, migrations: well under this.
UP_TIMEOUT_SECONDS = 300.0
# The supervisor stops every part cleanly (gunicorn lets requests finish) before this.
DOWN_TIMEOUT_SECONDS = 120.0
# A part stopped or started on request (one check of the supervisor, a clean stop of at
# most ServerProcess.stop_timeout, or a start with an app server loading its model).
PART_TIMEOUT_SECONDS = 90.0
SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kmg]?)$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """ "512m", "1g", "1.5g" or a number of bytes."""
    match = SIZE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 512m, 1g)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** " kmg".index(unit.lower() or " "))


def parse_setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.startswith("PROXY_"):
        raise argparse.ArgumentTypeError(f"expected PROXY_NAME=value, not {text!r}")
    return name, value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="scripts/stack", description=__doc__)
    main.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("BIRDAI_STACK_DIR") or DEFAULT_STATE_DIR),
        help="where the stack keeps its state, logs and files (default: var/stack)",
    )
    commands = main.add_subparsers(dest="command", required=True)

    for name in ("up", "supervise"):
        # `supervise` is what `up` runs in the background; it has no help line.
        helps = {"help": "start the stack and return once it is healthy"} if name == "up" else {}
        up = commands.add_parser(name, **helps)
        up.add_argument("--app-servers", type=int, default=2, metavar="N")
        up.add_argument("--cpu", type=float, default=0.5, help="cores per app server")
        up.add_argument("--memory", type=parse_size, default="1g", help="per app server")
        up.add_argument("--workers", type=int, default=1, help="gunicorn workers per app server")
        up.add_argument("--onnx-model", type=Path, default=DEFAULT_ONNX_MODEL)
        up.add_argument(
            "--proxy",
            type=parse_setting,
            action="append",
            default=[],
            metavar="PROXY_NAME=VALUE",
            help="a proxy setting (docker/nginx/proxy.env), e.g. PROXY_CLASSIFY_RATE=200r/s",
        )

    commands.add_parser("down", help="stop every part; nothing if nothing runs")
    status = commands.add_parser("status", help="each part: role, URL, PIDs, health")
    status.add_argument("--json", action="store_true", help="machine-readable")
    manage = commands.add_parser("manage", help="manage.py against the stack's database")
    manage.add_argument("arguments", nargs=argparse.REMAINDER)
    stop = commands.add_parser("stop", help="stop one part and keep it stopped (an outage)")
    stop.add_argument("part", help="its name in status: postgres, redis, s3, app1...")
    start = commands.add_parser("start", help="start a part stopped by `stop` again")
    start.add_argument("part", help="its name in status")
    return main


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    state_dir = arguments.state_dir.resolve()
    if arguments.command in ("up", "supervise"):
        if not 1 <= arguments.app_servers <= 16 or arguments.cpu <= 0 or arguments.workers < 1:
            parser().error("need 1..16 app servers, a positive --cpu and --workers")
        options = StackOptions(
            app_servers=arguments.app_servers,
            share=Share(arguments.cpu, arguments.memory),
            workers=arguments.workers,
            onnx_model=arguments.onnx_model.resolve(),
            proxy_settings=dict(arguments.proxy),
        )
        if arguments.command == "supervise":
            return supervise(state_dir, options)
        return up(state_dir, options)
    if arguments.command == "down":
        return down(state_dir)
    if arguments.command == "status":
        return status(state_dir, as_json=arguments.json)
    if arguments.command in ("stop", "start"):
        return stop_or_start(state_dir, arguments.part, stop=arguments.command == "stop")
    return manage(state_dir, arguments.arguments)


# --- up -----------------------------------------------------------------------------------


def supervise(state_dir: Path, options: StackOptions) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return Supervisor(state_dir, options).run()


def supervise_arguments(options: StackOptions) -> list[str]:
    """The command line that makes `supervise` start the stack `options` describe."""
    arguments = [
        f"--app-servers={options.app_servers}",
        f"--cpu={options.share.cpu}",
        f"--memory={options.share.memory_bytes}",
        f"--workers={options.workers}",
        f"--onnx-model={options.onnx_model}",
    ]
    return arguments + [f"--proxy={name}={value}" for name, value in options.proxy_settings.items()]


def up(state_dir: Path, options: StackOptions) -> int:
    """Starts the supervisor in its own session (it outlives this command) and waits
    until it reports the stack ready, or failed."""
    state = read_state(state_dir)
    if state and same_process(**state["supervisor"]):
        print(f"a stack already runs ({state['base_url']}): scripts/stack down", file=sys.stderr)
        return 1
    if state:
        down(state_dir)  # what is left of a stack whose supervisor was killed
    shutil.rmtree(state_dir / HELD_DIR, ignore_errors=True)  # no part starts held
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "supervisor.log"
    with open(log_path, "ab") as log:
        command = [sys.executable, "-m", "tooling.stack", "--state-dir", str(state_dir)]
        supervisor = subprocess.Popen(
            [*command, "supervise", *supervise_arguments(options)],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + UP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        state = read_state(state_dir)
        if state and state["status"] == READY:
            print_parts(state, file=sys.stderr)
            print(state["base_url"])
            return 0
        if (state and state["status"] == FAILED) or supervisor.poll() is not None:
            supervisor.wait()
            error = (state or {}).get("error") or "the supervisor exited"
            print(f"the stack did not start: {error}\n{log_tail(log_path)}", file=sys.stderr)
            down(state_dir)
            return 1
        time.sleep(0.2)
    print(f"the stack was not ready after {UP_TIMEOUT_SECONDS:.0f} s", file=sys.stderr)
    print(log_tail(log_path), file=sys.stderr)
    down(state_dir)
    return 1


def log_tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(FileNotFoundError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --- down ---------------------------------------------------------------------------------


def down(state_dir: Path) -> int:
    """Asks the supervisor to stop everything; then makes sure: kills what is left of
    each recorded process group and removes the cgroups. Nothing to do is no error."""
    state = read_state(state_dir)
    if state is None:
        print("no stack runs from " + str(state_dir), file=sys.stderr)
        return 0
    supervisor = state["supervisor"]
    if same_process(**supervisor):
        os.kill(supervisor["pid"], signal.SIGTERM)
        deadline = time.monotonic() + DOWN_TIMEOUT_SECONDS
        while same_process(**supervisor) and time.monotonic() < deadline:
            time.sleep(0.1)
        if same_process(**supervisor):
            os.kill(supervisor["pid"], signal.SIGKILL)
    # Usually the supervisor has done all of this; after a kill -9 of it, not.
    for part in state["parts"]:
        if same_process(part["pid"], part["started"]):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(part["pid"], signal.SIGKILL)
        if part["cgroup"]:
            remove_cgroup(part["cgroup"])
        shutil.rmtree(part["workdir"], ignore_errors=True)
    remove_state(state_dir)
    print("stack stopped", file=sys.stderr)
    return 0


def remove_cgroup(described: dict[str, Any]) -> None:
    cgroup = Cgroup(described["name"], version=described["version"])
    # Only the stack's processes were ever put in it.
    for pid in cgroup.pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    cgroup.remove()


# --- status -------------------------------------------------------------------------------


def part_health(part: dict[str, Any]) -> dict[str, Any]:
    alive = alive_pids(part["pids"]) if same_process(part["pid"], part["started"]) else []
    if part["health_url"]:
        healthy = bool(alive) and http_status(part["health_url"]) == 200
    else:
        healthy = bool(alive) and tcp_port_open("127.0.0.1", part["port"])
    return {**part, "alive": bool(alive), "alive_pids": alive, "healthy": healthy}


def status(state_dir: Path, *, as_json: bool) -> int:
    state = read_state(state_dir)
    if state is None:
        report = {"status": "down", "base_url": "", "parts": []}
    else:
        supervisor_alive = same_process(**state["supervisor"])
        report = {
            "status": state["status"] if supervisor_alive else "supervisor-dead",
            "base_url": state["base_url"],
            "supervisor": {**state["supervisor"], "alive": supervisor_alive},
            "state_file": str(state_dir / "state.json"),
            "parts": [part_health(part) for part in state["parts"]],
        }
    healthy = report["status"] == READY and all(part["healthy"] for part in report["parts"])
    report["healthy"] = healthy
    if as_json:
        print(json.dumps(report, indent=2))
    elif state is None:
        print("no stack runs")
    else:
        print(f"stack {report['status']} at {report['base_url']}")
        print_parts(report)
    return 0 if healthy else 1


def print_parts(state: dict[str, Any], file: Any = sys.stdout) -> None:
    for part in state["parts"]:
        health = ""
        if "healthy" in part:
            health = "healthy" if part["healthy"] else ("alive" if part["alive"] else "DOWN")
        share = ""
        if part["cgroup"]:
            cgroup = part["cgroup"]
            share = f"  {cgroup['cpu']} CPU, {cgroup['memory_bytes'] // 2**20} MiB"
        pids = ",".join(str(pid) for pid in part["pids"])
        print(
            f"  {part['role']:<14} {part['name']:<9} {part['url']:<42} pids {pids:<20}"
            f" {health}{share}",
            file=file,
        )


# --- stop and start one part ---------------------------------------------------------------


def stop_or_start(state_dir: Path, name: str, *, stop: bool) -> int:
    """Asks the supervisor to hold the part `name` stopped (a file in HELD_DIR), or to
    start it again (the file removed); returns once it has: stopped, or healthy again.
    An outage on purpose, e.g. `stop postgres; sleep 5; start postgres`."""
    state = read_state(state_dir)
    if state is None or state["status"] != READY or not same_process(**state["supervisor"]):
        print("no stack is ready: scripts/stack up first", file=sys.stderr)
        return 1
    names = [part["name"] for part in state["parts"]]
    if name not in names:
        print(f"no part named {name!r}; the parts: {', '.join(names)}", file=sys.stderr)
        return 1
    held = state_dir / HELD_DIR / name
    if stop:
        held.parent.mkdir(exist_ok=True)
        held.touch()
    else:
        held.unlink(missing_ok=True)
    deadline = time.monotonic() + PART_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        part = next(p for p in (read_state(state_dir) or state)["parts"] if p["name"] == name)
        if stop and part["held"] and not part["running"]:
            print(f"{name} stopped; `scripts/stack start {name}` starts it again", file=sys.stderr)
            return 0
        if not stop and not part["held"] and part_health(part)["healthy"]:
            print(f"{name} is running again at {part['url']}", file=sys.stderr)
            return 0
        time.sleep(0.1)
    print(f"{name} did not {'stop' if stop else 'start'} within {PART_TIMEOUT_SECONDS:.0f} s",
          file=sys.stderr)  # fmt: skip
    return 1


# --- manage -------------------------------------------------------------------------------


def manage(state_dir: Path, arguments: list[str]) -> int:
    state = read_state(state_dir)
    if state is None or state["status"] != READY:
        print("no stack is ready: scripts/stack up first", file=sys.stderr)
        return 1
    command = [sys.executable, "manage.py", *arguments]
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env={**os.environ, **state["environment"]}, check=False
    ).returncode
