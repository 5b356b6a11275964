"""What each part of a running stack uses: CPU (in cores) and memory, read from /proc.

    scripts/stack-usage --seconds 60 --every 10 [--pid loadtest=PID] [--json FILE]

Run it beside a load test to see where the bottleneck is: the part whose CPU reaches
its share (an app server at its cgroup quota) or the machine's cores (nginx, PostgreSQL,
the load generator) is the one that limits the rate. It reads the stack's description
(scripts/stack status --json, tooling/stack/state.py) and, for each part, the CPU time
of its main process, of the children it has reaped (PostgreSQL's ended backends) and of
its live descendants (gunicorn's and nginx's workers, PostgreSQL's backends), every
`--every` seconds. "machine" is every CPU of the machine that was busy (/proc/stat),
"everything else" what the parts and the --pid processes did not use: other work on a
shared machine. Memory is read once at the end: RSS and PSS summed over each part's
processes (PSS splits shared pages, so it adds up; RSS counts them once per process);
so are the bytes each part read from and wrote to storage on average.
"""

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from tooling.servers import child_pids, pss_bytes, rss_bytes
from tooling.stack.state import DEFAULT_STATE_DIR, read_state

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for child in child_pids(pid):
            found += [child, *descendants(child)]
    return found


def stat_fields(pid: int) -> list[str]:
    # After the command name, which may hold spaces or ")".
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def group_cpu_seconds(pid: int) -> float:
    """CPU time of the process, of its reaped children and of its live descendants."""
    try:
        fields = stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    for child in descendants(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            ticks += sum(int(field) for field in stat_fields(child)[11:13])
    return ticks / TICKS_PER_SECOND


def machine_busy_seconds() -> float:
    """All CPU time spent on the machine so far (user nice system irq softirq steal)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND


def memory_mb(pids: list[int]) -> dict[str, float]:
    rss = pss = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, LookupError):
            rss += rss_bytes(pid)
            pss += pss_bytes(pid)
    return {"rss_mb": round(rss / 1e6, 1), "pss_mb": round(pss / 1e6, 1)}


def disk_bytes(pid: int) -> tuple[int, int]:
    """Bytes the process and its live descendants read from and wrote to storage
    (/proc/PID/io read_bytes, write_bytes: what reached the block layer, not the page
    cache). Children that already ended are not counted."""
    read = written = 0
    for each in [pid, *descendants(pid)]:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            fields = dict(
                line.split(": ") for line in Path(f"/proc/{each}/io").read_text().splitlines()
            )
            read += int(fields["read_bytes"])
            written += int(fields["write_bytes"])
    return read, written


def parse_pid(text: str) -> tuple[str, int]:
    name, equals, pid = text.partition("=")
    if not equals or not pid.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PID, not {text!r}")
    return name, int(pid)


def watched(state: dict, extra: dict[str, int]) -> dict[str, int]:
    """Each part's main process by name ("app1", "proxy"...), and the extra ones."""
    found = {part["name"]: part["pid"] for part in state["parts"] if part["pid"]}
    return {**found, **extra}


def sample(processes: dict[str, int]) -> dict[str, float]:
    figures = {name: group_cpu_seconds(pid) for name, pid in processes.items()}
    return {**figures, "machine": machine_busy_seconds(), "wall": time.monotonic()}


def cores_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    wall = after["wall"] - before["wall"]
    cores = {name: (after[name] - before[name]) / wall for name in after if name != "wall"}
    parts = sum(value for name, value in cores.items() if name != "machine")
    cores["everything else"] = max(0.0, cores["machine"] - parts)
    return {name: round(value, 3) for name, value in cores.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/stack-usage", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to watch")
    parser.add_argument("--every", type=float, default=10.0, help="seconds per line")
    parser.add_argument("--pid", type=parse_pid, action="append", default=[], metavar="NAME=PID")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("BIRDAI_STACK_DIR") or DEFAULT_STATE_DIR),
    )
    arguments = parser.parse_args(argv)
    state = read_state(arguments.state_dir)
    if state is None:
        print("no stack runs: scripts/stack up first", file=sys.stderr)
        return 1
    processes = watched(state, dict(arguments.pid))
    names = [*processes, "everything else", "machine"]
    print(f"CPU in cores, per window of {arguments.every:g} s (Ctrl-C or kill: stop early)")
    print(f"{'seconds':>7} " + " ".join(f"{name[:9]:>9}" for name in names), flush=True)
    # `kill` stops the watch as Ctrl-C does: the average and memory are still printed.
    signal.signal(signal.SIGTERM, lambda *_: signal.default_int_handler(signal.SIGINT, None))

    first = previous = sample(processes)
    disk_before = {name: disk_bytes(pid) for name, pid in processes.items()}
    windows = []
    deadline = first["wall"] + arguments.seconds
    with contextlib.suppress(KeyboardInterrupt):
        while time.monotonic() < deadline:
            time.sleep(min(arguments.every, max(0.0, deadline - time.monotonic())))
            current = sample(processes)
            window = cores_between(previous, current)
            window["seconds"] = round(current["wall"] - first["wall"], 1)
            windows.append(window)
            line = " ".join(f"{window[name]:>9.2f}" for name in names)
            print(f"{window['seconds']:>7.0f} {line}", flush=True)
            previous = current
    average = cores_between(first, previous) if previous is not first else {}
    if average:
        line = " ".join(f"{average[name]:>9.2f}" for name in names)
        print(f"{'average':>7} {line}")

    memory = {name: memory_mb([pid, *descendants(pid)]) for name, pid in processes.items()}
    seconds = max(previous["wall"] - first["wall"], 1e-9)
    disk = {}
    for name, pid in processes.items():
        now, then = disk_bytes(pid), disk_before[name]
        disk[name] = {
            "read_mb_per_s": round((now[0] - then[0]) / 1e6 / seconds, 3),
            "write_mb_per_s": round((now[1] - then[1]) / 1e6 / seconds, 3),
        }
    print("memory at the end, MB; storage read/written on average, MB/s:")
    for name, figures in memory.items():
        read, written = disk[name]["read_mb_per_s"], disk[name]["write_mb_per_s"]
        print(
            f"  {name:<10} RSS {figures['rss_mb']:>7.1f}  PSS {figures['pss_mb']:>7.1f}"
            f"   read {read:>7.3f}  written {written:>7.3f}"
        )
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "parts": processes,
            "average_cores": average,
            "windows": windows,
            "memory": memory,
            "disk": disk,
        }
        arguments.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
